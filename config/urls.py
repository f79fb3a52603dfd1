from django.urls import include, path

urlpatterns = [
    path("", include("gongkai.core.urls")),
    path("accounts/", include("gongkai.accounts.urls")),
    path("org/", include("gongkai.org.urls")),
    path("audit/", include("gongkai.audit.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
