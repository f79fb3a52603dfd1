from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import path
from django.views.generic import RedirectView

from gongkai.accounts import views

app_name = "accounts"
urlpatterns = [
    # /accounts/: your account's page (the password), or the login for visitors.
    path(
        "",
        login_required(RedirectView.as_view(pattern_name="accounts:password_change")),
        name="index",
    ),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("directory/", views.directory, name="directory"),
]
