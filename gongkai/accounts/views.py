from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from gongkai.accounts.forms import LoginForm, PasswordChangeForm
from gongkai.accounts.services import password_change, remember_device
from gongkai.core.errors import ServiceError


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: auth_forms.AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        remember_device(request=self.request, response=response, user=form.get_user())
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("home")
    form_class = PasswordChangeForm

    def form_valid(self, form: auth_forms.PasswordChangeForm) -> HttpResponse:
        try:
            password_change(user=form.user, new_password=form.cleaned_data["new_password1"])
        except ServiceError as error:
            error.add_to_form(form)
            return self.form_invalid(form)
        update_session_auth_hash(self.request, form.user)
        messages.success(self.request, _("Your password has been changed."))
        return redirect(self.get_success_url())
