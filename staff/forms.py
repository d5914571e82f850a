from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _
from django_otp import match_token

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.http import HttpRequest
    from django_otp.models import Device


class StaffSignInForm(AuthenticationForm):
    """Username and password (throttled by django-axes through the authentication backend)."""


class TokenForm(forms.Form):
    """A code from the authenticator app, or one of the printed backup codes."""

    token = forms.CharField(
        label=_("Code from your authenticator app, or a backup code"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def __init__(self, *args: Any, user: "User | AnonymousUser", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.device: Device | None = None

    def find_device(self, token: str) -> "Device | None":
        return match_token(self.user, token)

    def clean_token(self) -> str:
        token = "".join(self.cleaned_data["token"].split())
        self.device = self.find_device(token)
        if self.device is None:
            raise forms.ValidationError(
                _("This code is not valid. Check the time on your phone and try again.")
            )
        return token


class EnrolForm(TokenForm):
    """The first code of a newly scanned app, checked against that (not yet confirmed) device."""

    def __init__(self, *args: Any, device: "Device", **kwargs: Any) -> None:
        super().__init__(*args, user=device.user, **kwargs)
        self.pending_device = device
        self.fields["token"].label = _("The 6-digit code your app shows now")

    def find_device(self, token: str) -> "Device | None":
        return self.pending_device if self.pending_device.verify_token(token) else None


class ConfirmIdentityForm(forms.Form):
    """Before downloading medical records or erasing data: the password or a second-factor code."""

    secret = forms.CharField(
        label=_("Your password, or a code from your authenticator app"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )

    def __init__(self, *args: Any, request: "HttpRequest", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_secret(self) -> str:
        # Not authenticate(): a code tried as a password would count as a failed sign-in (and lock
        # the account). The view ends the session after a few failures instead.
        secret: str = self.cleaned_data["secret"]
        user = self.request.user
        code = "".join(secret.split())
        if code.isalnum() and len(code) <= 16 and match_token(user, code):
            return secret
        if user.check_password(secret):
            return secret
        raise forms.ValidationError(_("This is neither your password nor a valid code."))
