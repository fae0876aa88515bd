app_name = "scm_reports"

urlpatterns = []
