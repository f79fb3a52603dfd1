from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from gongkai.accounts.directory_config import configured as directory_configured
from gongkai.accounts.services import LoginRefused, login_attempt, password_reuse_error

DIRECTORY_NAME_MAX = 128


class LoginForm(AuthenticationForm):
    """Employee number (工号) and password, with login throttling (accounts.services)."""

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
        # The same words for every employee number, existing or not.
        "locked": _(
            "Too many failed attempts: this account is locked until %(until)s. "
            "Ask the union office if you need it sooner."
        ),
        "busy": _(
            "Too many wrong passwords were tried from this network: logins from here are "
            "paused until %(until)s, except on a browser that has signed in to the account "
            "before."
        ),
        "directory_down": _(
            "The directory cannot be reached just now, so directory accounts cannot sign in. "
            "Accounts with a local password can still sign in: check the employee number "
            "and password."
        ),
    }

    def __init__(self, request: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        if directory_configured():
            # A directory login name may be longer than an employee number (a UPN).
            field = self.fields["username"]
            assert isinstance(field, forms.CharField)  # noqa: S101 - declared above
            field.label = _("Employee number or directory login name")
            field.max_length = DIRECTORY_NAME_MAX
            field.validators = [
                *(v for v in field.validators if not isinstance(v, MaxLengthValidator)),
                MaxLengthValidator(DIRECTORY_NAME_MAX),
            ]
            field.widget.attrs["maxlength"] = str(DIRECTORY_NAME_MAX)

    def clean(self) -> dict[str, Any]:
        employee_no = (self.cleaned_data.get("username") or "").strip()
        password = self.cleaned_data.get("password")
        if employee_no and password:
            try:
                self.user_cache = login_attempt(
                    request=self.request, employee_no=employee_no, password=password
                )
            except LoginRefused as refused:
                if refused.reason:  # only once the password was right
                    raise forms.ValidationError(refused.reason, code=refused.code) from None
                for code, until in (("busy", refused.busy_until), ("locked", refused.locked_until)):
                    if until is not None:
                        shown = formats.date_format(timezone.localtime(until), "DATETIME_FORMAT")
                        raise forms.ValidationError(
                            self.error_messages[code], code=code, params={"until": shown}
                        ) from None
                if refused.directory_down:
                    raise forms.ValidationError(
                        self.error_messages["directory_down"], code="directory_down"
                    ) from None
                raise self.get_invalid_login_error() from None
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Django's form, refusing the current password (the temporary one, when the union
    office issued it) and the recent ones."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        new = self.cleaned_data.get("new_password2")
        if new and "new_password2" not in self.errors:
            error = password_reuse_error(user=self.user, new_password=new)
            if error:
                self.add_error("new_password2", forms.ValidationError(error, code="reused"))
        return cleaned or {}


class DirectoryRequireForm(forms.Form):
    """Switch "the directory is required for everyone" on or off, with a confirmation."""

    required = forms.TypedChoiceField(
        choices=[("1", "on"), ("0", "off")],
        coerce=lambda value: value == "1",
        widget=forms.HiddenInput,
    )
    confirm = forms.BooleanField(
        label=_("I have read what this changes."),
        error_messages={"required": _("Tick the box to confirm.")},
    )
