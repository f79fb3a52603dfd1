from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from gongkai.accounts import directory_config
from gongkai.accounts.forms import DirectoryRequireForm, LoginForm, PasswordChangeForm
from gongkai.accounts.models import DirectoryPolicy, User
from gongkai.accounts.requests import signed_in_user
from gongkai.accounts.services import directory_require_set, password_change, remember_device
from gongkai.core.access import require
from gongkai.core.errors import ServiceError


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: auth_forms.AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        remember_device(request=self.request, response=response, user=form.get_user())
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "directory": directory_config.configured()}


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("home")
    form_class = PasswordChangeForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if isinstance(user, User) and user.directory_dn and directory_config.configured():
            # Its password is the directory's; the local one is unusable and refused.
            return render(request, "accounts/password_in_directory.html")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form: auth_forms.PasswordChangeForm) -> HttpResponse:
        try:
            password_change(user=form.user, new_password=form.cleaned_data["new_password1"])
        except ServiceError as error:
            error.add_to_form(form)
            return self.form_invalid(form)
        update_session_auth_hash(self.request, form.user)
        messages.success(self.request, _("Your password has been changed."))
        return redirect(self.get_success_url())


@login_required
@require_http_methods(["GET", "POST"])
def directory(request: HttpRequest) -> HttpResponse:
    """The union office's page: the directory as configured, whether it answers, and the
    switch that requires it for everyone."""
    require(request.user, "accounts.directory_manage")
    policy = DirectoryPolicy.objects.filter(pk=DirectoryPolicy.ONLY).first()
    required = policy is not None and policy.required
    form = DirectoryRequireForm(initial={"required": "0" if required else "1"})
    if request.method == "POST":
        form = DirectoryRequireForm(request.POST)
        if form.is_valid():
            try:
                directory_require_set(
                    actor=signed_in_user(request), required=form.cleaned_data["required"]
                )
            except ServiceError as error:
                error.add_to_form(form)
            else:
                if form.cleaned_data["required"]:
                    messages.success(request, _("The directory is now required for everyone."))
                else:
                    messages.success(request, _("Local passwords work again beside the directory."))
                return redirect("accounts:directory")
    return render(
        request,
        "accounts/directory.html",
        {
            **_directory_facts(),
            "policy": policy,
            "required": required,
            "form": form,
            "linked": User.objects.exclude(directory_dn="").count(),
        },
        status=400 if form.errors else 200,
    )


def _directory_facts() -> dict[str, Any]:
    if not directory_config.configured():
        return {"configured": False}
    facts: dict[str, Any] = {
        "configured": True,
        "config": directory_config.describe(),
        "problems": directory_config.problems(),
    }
    try:
        lines = directory_config.group_roles()
    except directory_config.GroupRolesError:
        lines = []  # named among the problems
    roles = directory_config.roles()
    facts["groups"] = roles.describe(lines) if roles is not None else []
    try:
        # The optional `directory` extra: imported only once a directory is configured.
        from gongkai.accounts.directory import status
    except ImportError:
        facts["answers"], facts["detail"] = False, _("the directory extra is not installed")
    else:
        answer = status()
        facts["answers"], facts["detail"] = answer.answers, answer.detail
    return facts
