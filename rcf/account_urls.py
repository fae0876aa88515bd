from django.contrib.auth import views as auth_views
from django.urls import path

from . import accounts

urlpatterns = [
    path("login/", accounts.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password_change/", accounts.GuardedPasswordChangeView.as_view(), name="password_change"),
    path("password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("two-factor/", accounts.TwoFactorView.as_view(), name="two_factor"),
    path("two-factor/verify/", accounts.TwoFactorVerifyView.as_view(), name="two_factor_verify"),
    path("two-factor/setup/", accounts.TwoFactorSetupView.as_view(), name="two_factor_setup"),
    path("two-factor/recovery-codes/", accounts.RecoveryCodesView.as_view(), name="two_factor_recovery_codes"),
    path("two-factor/disable/", accounts.TwoFactorDisableView.as_view(), name="two_factor_disable"),
]
