"""The REST API under /api/v1/ (see issue 6)."""

urlpatterns = []
