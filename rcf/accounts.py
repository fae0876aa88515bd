"""Sign-in pages: the password step (Django's LoginView), the two-factor step, and the page where
a signed-in user sets up, renews or turns off two-factor sign-in. Rules live in ``rcf.mfa``;
lockout in ``rcf.lockout`` (django-axes).

A user with a confirmed device is signed in by the password but may reach nothing except the
two-factor step (and sign-out, the language switch) until a code verifies the session
(``TwoFactorMiddleware``); the same holds for the admin, whose login form is the password step.
"""

from urllib.parse import urlencode

from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import View
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login

from . import mfa
from .lockout import lockout_response

# What a signed-in but not yet verified session still needs: "verify" (it has a device, so a
# code must be typed) or "enrol" (an administrator who must set up two-factor sign-in first).
# Decided once at sign-in and kept in the session, so ordinary pages cost no extra query.
SESSION_KEY = "rcf_two_factor"
VERIFY, ENROL = "verify", "enrol"

_ALWAYS_ALLOWED = {"logout", "admin:logout", "set_language", "healthz", "two_factor_verify"}
_ENROL_ALLOWED = _ALWAYS_ALLOWED | {"two_factor", "two_factor_setup"}


def _on_sign_in(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    if mfa.has_two_factor(user):
        request.session[SESSION_KEY] = VERIFY
    elif mfa.two_factor_required(user):
        request.session[SESSION_KEY] = ENROL
    else:
        request.session.pop(SESSION_KEY, None)


user_logged_in.connect(_on_sign_in, dispatch_uid="rcf_two_factor_on_sign_in")


def _safe_next(request, default="/"):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def _with_next(url_name, next_url):
    return f"{reverse(url_name)}?{urlencode({'next': next_url})}"


class TwoFactorMiddleware:
    """Keeps a session that still owes a second factor (see ``SESSION_KEY``) to the two-factor
    pages. Goes after django-otp's OTPMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        owed = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        if not request.user.is_authenticated or request.user.is_verified():
            return None
        if owed is None and mfa.two_factor_required(request.user):
            # Made an administrator (or superuser) after signing in: what is owed is decided
            # again, else the admin would be used with the password alone. Costs a query only
            # for such an unverified session, which goes no further than the two-factor pages.
            owed = VERIFY if mfa.has_two_factor(request.user) else ENROL
            request.session[SESSION_KEY] = owed
        if owed is None:
            return None
        view_name = request.resolver_match.view_name if request.resolver_match else ""
        allowed = _ENROL_ALLOWED if owed == ENROL else _ALWAYS_ALLOWED
        if view_name in allowed:
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": _("Finish two-factor sign-in first.")}, status=403)
        if owed == ENROL:
            messages.warning(request, _("Administrators must set up two-factor sign-in before going on."))
            return redirect(_with_next("two_factor_setup", request.get_full_path()))
        return redirect(_with_next("two_factor_verify", request.get_full_path()))


class SignInView(auth_views.LoginView):
    """The password step; a user with two-factor sign-in goes on to the code step."""

    redirect_authenticated_user = True

    def get_success_url(self):
        target = super().get_success_url()
        owed = self.request.session.get(SESSION_KEY)
        if owed == VERIFY:
            return _with_next("two_factor_verify", target)
        if owed == ENROL:
            return _with_next("two_factor_setup", target)
        return target


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_lazy("Code"),
        max_length=32,
        help_text=_lazy("The 6 digits your authenticator app shows now, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}),
    )


class AppCodeForm(forms.Form):
    code = forms.CharField(
        label=_lazy("Code from the app"),
        max_length=32,
        help_text=_lazy("The 6 digits the app shows for RCF Tracker."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class DisableForm(forms.Form):
    password = forms.CharField(label=_lazy("Your password"), required=False, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    code = forms.CharField(label=_lazy("Or a code"), required=False, max_length=32,
                           help_text=_lazy("From your authenticator app, or a recovery code."),
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}))

    def clean(self):
        data = super().clean()
        if not data.get("password") and not data.get("code"):
            raise forms.ValidationError(_("Type your password or a code to turn two-factor sign-in off."))
        return data


def _failed_attempt(request, user):
    """Count a wrong code (or password) toward the lockout, as a failed sign-in. Returns the
    lockout page when this failure locked the account or address (the session is ended)."""
    user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=request)
    if getattr(request, "axes_locked_out", False):
        logout(request)
        return lockout_response(request)
    return None


def _locked(request, user) -> bool:
    return settings.AXES_ENABLED and not AxesProxyHandler.is_allowed(request, {"username": user.get_username()})


@method_decorator(never_cache, name="dispatch")
class TwoFactorVerifyView(LoginRequiredMixin, View):
    """The second step of signing in: a code from the app, or a recovery code."""

    template_name = "accounts/two_factor_verify.html"

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and (user.is_verified() or not mfa.has_two_factor(user)):
            if not user.is_verified():
                # No device any more (removed by an administrator): nothing is owed.
                request.session.pop(SESSION_KEY, None)
            return redirect(_safe_next(request))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return render(request, self.template_name, {"form": CodeForm(), "next": _safe_next(request, "")})

    def post(self, request):
        user = request.user
        form = CodeForm(request.POST)
        if _locked(request, user):
            return _failed_attempt(request, user) or lockout_response(request)
        if form.is_valid():
            device = mfa.second_factor_verify(user=user, code=form.cleaned_data["code"])
            if device is not None:
                otp_login(request, device)
                request.session.pop(SESSION_KEY, None)
                request.session.cycle_key()
                return redirect(_safe_next(request))
            locked = _failed_attempt(request, user)
            if locked:
                return locked
            form.add_error("code", _("That code is not right. Try the code your app shows now, or a recovery code. "
                                     "After several wrong codes, wait a moment before trying again."))
        return render(request, self.template_name, {"form": form, "next": _safe_next(request, "")}, status=400)


@method_decorator(never_cache, name="dispatch")
class TwoFactorView(LoginRequiredMixin, View):
    """Two-factor sign-in for the signed-in user: whether it is on, and what they can do."""

    def get(self, request):
        return render(request, "accounts/two_factor.html", self.context(request, DisableForm()))

    @staticmethod
    def context(request, disable_form):
        user = request.user
        return {
            "enabled": mfa.has_two_factor(user),
            "required": mfa.two_factor_required(user),
            "codes_left": mfa.recovery_codes_left(user),
            "disable_form": disable_form,
        }


class VerifiedIfEnrolledMixin(LoginRequiredMixin):
    """Changing two-factor sign-in needs a session verified by it, once the user has it."""

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and not user.is_verified() and mfa.has_two_factor(user):
            request.session[SESSION_KEY] = VERIFY
            return redirect(_with_next("two_factor_verify", reverse("two_factor")))
        return super().dispatch(request, *args, **kwargs)


@method_decorator(never_cache, name="dispatch")
class TwoFactorSetupView(VerifiedIfEnrolledMixin, View):
    """Set up (or replace) the authenticator app: scan the QR code, confirm with a code."""

    template_name = "accounts/two_factor_setup.html"

    def context(self, request, form):
        device = mfa.app_device_pending(user=request.user)
        return {"form": form, "qr_svg": mfa.app_device_qr_svg(device), "secret": mfa.app_device_secret(device),
                "replacing": mfa.has_two_factor(request.user), "next": _safe_next(request, "")}

    def get(self, request):
        return render(request, self.template_name, self.context(request, AppCodeForm()))

    def post(self, request):
        form = AppCodeForm(request.POST)
        if form.is_valid():
            try:
                codes = mfa.app_device_confirm(user=request.user, code=form.cleaned_data["code"])
            except forms.ValidationError as error:
                form.add_error("code", error.message_dict["code"])
            else:
                device = request.user.totpdevice_set.get(confirmed=True)
                otp_login(request, device)
                request.session.pop(SESSION_KEY, None)
                request.session.cycle_key()
                mfa.other_sessions_end(user=request.user, keep=request.session.session_key)
                return _recovery_codes_page(request, codes, first_time=True)
        return render(request, self.template_name, self.context(request, form), status=400)


def _recovery_codes_page(request, codes, *, first_time=False):
    response = render(request, "accounts/recovery_codes.html",
                      {"codes": codes, "first_time": first_time, "next": _safe_next(request, "")})
    response["Cache-Control"] = "no-store"
    return response


class RecoveryCodesView(VerifiedIfEnrolledMixin, View):
    """Replace the recovery codes (shown once; the old ones stop working)."""

    http_method_names = ["post"]

    def post(self, request):
        if not mfa.has_two_factor(request.user):
            messages.error(request, _("Set up two-factor sign-in first."))
            return redirect("two_factor")
        return _recovery_codes_page(request, mfa.recovery_codes_replace(user=request.user))


class TwoFactorDisableView(VerifiedIfEnrolledMixin, View):
    """Turn two-factor sign-in off, confirmed by the password or a code."""

    http_method_names = ["post"]

    def post(self, request):
        user = request.user
        form = DisableForm(request.POST)
        if mfa.two_factor_required(user):
            form.add_error(None, _("Administrators cannot turn two-factor sign-in off. "
                                   "To change phones, set up the new one instead."))
        elif _locked(request, user):
            return _failed_attempt(request, user) or lockout_response(request)
        elif form.is_valid():
            password, code = form.cleaned_data["password"], form.cleaned_data["code"]
            if password:
                # authenticate() counts a wrong password toward the lockout itself.
                confirmed = authenticate(request, username=user.get_username(), password=password) == user
                if getattr(request, "axes_locked_out", False):
                    logout(request)
                    return lockout_response(request)
            else:
                confirmed = mfa.second_factor_verify(user=user, code=code) is not None
                if not confirmed:
                    locked = _failed_attempt(request, user)
                    if locked:
                        return locked
            if confirmed:
                mfa.two_factor_disable(user=user)
                request.session.pop(SESSION_KEY, None)
                messages.success(request, _("Two-factor sign-in is off."))
                return redirect("two_factor")
            form.add_error(None, _("That password or code is not right. Nothing was changed."))
        return render(request, "accounts/two_factor.html", TwoFactorView.context(request, form), status=400)


@method_decorator(never_cache, name="dispatch")
class GuardedPasswordChangeView(auth_views.PasswordChangeView):
    """Changing the password asks for the current one: a wrong one counts toward the sign-in
    lockout like a wrong password at sign-in, so someone holding a stolen session cannot guess
    the password without limit and then change it."""

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST" and request.user.is_authenticated and _locked(request, request.user):
            return lockout_response(request)
        return super().dispatch(request, *args, **kwargs)

    def form_invalid(self, form):
        if "old_password" in form.errors:
            locked = _failed_attempt(self.request, self.request.user)
            if locked:
                return locked
        return super().form_invalid(form)
