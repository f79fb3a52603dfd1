from django.urls import include, path

urlpatterns = [
    path("", include("gongkai.core.urls")),
    path("accounts/", include("gongkai.accounts.urls")),
    path("org/", include("gongkai.org.urls")),
    path("audit/", include("gongkai.audit.urls")),
    path("disclosures/", include("gongkai.disclosure.urls")),
    path("catalog/", include("gongkai.disclosure.catalog_urls")),
    path("rules/", include("gongkai.disclosure.regulation_urls")),
    path("notifications/", include("gongkai.core.notification_urls")),
    path("boards/", include("gongkai.disclosure.board_urls")),
    path("public/", include("gongkai.disclosure.public_urls")),
    path("search/", include("gongkai.search.urls")),
    path("attachments/", include("gongkai.disclosure.attachment_urls")),
    path("ledger/", include("gongkai.ledger.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
