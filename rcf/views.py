from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import selectors
from .services import VersionConflict


@never_cache
@require_GET
def healthz(request):
    """Database and broker reachability, for load balancers and CI."""
    report = selectors.health_report()
    return JsonResponse(report, status=200 if report["ok"] else 503)


def permission_denied(request, exception=None):
    from django.shortcuts import render

    return render(request, "403.html", {"reason": str(exception or "")}, status=403)


def page_not_found(request, exception=None):
    from django.shortcuts import render

    return render(request, "404.html", status=404)


class StaffView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """A staff page: anonymous visitors go to the login page; a signed-in user
    without the permission gets 403. The server checks; hiding a button is
    only a courtesy."""

    def handle_no_permission(self):
        if self.request.user.is_authenticated:
            raise PermissionDenied(_("Your role does not allow this."))
        return super().handle_no_permission()


def apply_service_errors(form, error: ValidationError) -> None:
    """Show a service's ValidationError beside the fields it names (the rest
    above the form)."""
    for field, errors in error.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class TrackedFormView(StaffView):
    """Create or edit a record through its service, with the version check."""

    model = None
    form_class = None
    template_name = "contacts/record_form.html"
    title = ""
    saved_message = _lazy("Saved.")
    create_service = None
    update_service = None
    instance_kwarg = None

    def get_object(self, pk):
        try:
            return self.model.objects.get(pk=pk)
        except self.model.DoesNotExist:
            raise Http404 from None

    def get(self, request, pk=None):
        instance = self.get_object(pk) if pk else None
        return render(request, self.template_name, self.context(self.form_class(instance=instance), instance))

    def post(self, request, pk=None):
        instance = self.get_object(pk) if pk else None
        form = self.form_class(request.POST, instance=instance)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
            try:
                if instance is None:
                    saved = type(self).create_service(by=request.user, **data)
                else:
                    saved = type(self).update_service(
                        by=request.user, expected_version=form.cleaned_data.get("version") or instance.version,
                        **{self.instance_kwarg: self.model.objects.get(pk=pk)}, **data)
            except VersionConflict:
                form.add_error(None, _("Someone else changed this record after you opened it. Nothing was saved; "
                                       "reload the page to see their changes."))
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, self.saved_message)
                return redirect(self.success_url(saved))
        return render(request, self.template_name, self.context(form, instance), status=400)

    def context(self, form, instance):
        return {"form": form, "object": instance, "title": self.title, "cancel_url": self.cancel_url(instance)}

    def cancel_url(self, instance):
        raise NotImplementedError

    def success_url(self, saved):
        raise NotImplementedError
