"""The signed-in user's profile page (issue 11): who they are, the point of
contact their login is linked to, and that POC's e-mail preferences (the
language of their e-mails, the weekly digest), which they alone change
(``services.poc_preferences_update``). Every signed-in user has one.

Its URL is at the site's root (``/profile/``, name ``profile``):
``rcf/urls.py`` includes this module's ``urlpatterns``."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from rcf.services import VersionConflict
from rcf.views import StaffView, apply_service_errors

from . import services
from .models import PointOfContact, PreferredLanguage


class PreferencesForm(forms.Form):
    # Which record the form was shown for, and at which version: the service
    # refuses a record that is not the user's own and one changed meanwhile.
    poc = forms.IntegerField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput)
    preferred_language = forms.ChoiceField(
        label=_lazy("Language of your e-mails"), choices=PreferredLanguage.choices,
        help_text=_lazy("Readiness notices, reminders and the weekly digest are sent to you in this language. "
                        "The language of the pages is chosen at the top of every page."),
    )
    weekly_digest = forms.BooleanField(
        label=_lazy("Send me the weekly digest"), required=False,
        help_text=_lazy("Lead POCs get one e-mail a week: the year's readiness, proposals awaiting their side, "
                        "their actions, projects whose health worsened and the coming engagements."),
    )

    @classmethod
    def for_poc(cls, poc: PointOfContact, data=None):
        return cls(data, initial={"poc": poc.pk, "version": poc.version,
                                  "preferred_language": poc.preferred_language, "weekly_digest": poc.weekly_digest})


def _linked_poc(user) -> PointOfContact | None:
    """The live point of contact the login is linked to, if any."""
    return PointOfContact.objects.select_related("organization").filter(user_id=user.pk).first()


class ProfileView(StaffView):
    permission_required = ()  # every signed-in user has a profile; the service guards the writes

    def get(self, request):
        poc = _linked_poc(request.user)
        return self._page(request, poc, PreferencesForm.for_poc(poc) if poc else None)

    def post(self, request):
        poc = _linked_poc(request.user)
        if poc is None:
            raise PermissionDenied(_("Your login is not linked to a point of contact: there are no e-mail "
                                     "preferences to change."))
        form = PreferencesForm(request.POST)
        if not form.is_valid():
            return self._page(request, poc, form, status=400)
        target = PointOfContact.objects.filter(pk=form.cleaned_data["poc"]).first()
        if target is None:
            raise Http404(_("No such point of contact."))
        try:
            services.poc_preferences_update(
                poc=target, by=request.user, expected_version=form.cleaned_data["version"],
                preferred_language=form.cleaned_data["preferred_language"],
                weekly_digest=form.cleaned_data["weekly_digest"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
            return self._page(request, poc, form, status=400)
        except VersionConflict as exc:
            messages.warning(request, _("Your point of contact record was changed meanwhile; here it is as it is "
                                        "now. Make your change again if it is still needed."))
            return self._page(request, exc.current, PreferencesForm.for_poc(exc.current), status=409)
        messages.success(request, _("Your preferences are saved."))
        return redirect("profile")

    def _page(self, request, poc, form, status=200):
        return render(request, "contacts/profile.html", {"poc": poc, "form": form}, status=status)


urlpatterns = [
    path("", ProfileView.as_view(), name="profile"),
]
