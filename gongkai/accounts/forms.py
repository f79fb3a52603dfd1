from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from gongkai.accounts.services import LoginRefused, login_attempt


class LoginForm(AuthenticationForm):
    """Employee number (工号) and password, with per-account lockout."""

    username = forms.CharField(
        label=_("Employee number"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "username", "inputmode": "text"}
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    error_messages = {
        "invalid_login": _("Employee number or password is wrong."),
        "inactive": _("This account is inactive."),
        "locked": _(
            "Too many failed attempts: this account is locked until %(until)s. "
            "Ask the union office if you need it sooner."
        ),
    }

    def clean(self) -> dict[str, Any]:
        employee_no = (self.cleaned_data.get("username") or "").strip()
        password = self.cleaned_data.get("password")
        if employee_no and password:
            try:
                self.user_cache = login_attempt(
                    request=self.request, employee_no=employee_no, password=password
                )
            except LoginRefused as refused:
                if refused.locked_until is not None:
                    until = formats.date_format(
                        timezone.localtime(refused.locked_until), "DATETIME_FORMAT"
                    )
                    raise forms.ValidationError(
                        self.error_messages["locked"], code="locked", params={"until": until}
                    ) from None
                raise self.get_invalid_login_error() from None
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data
