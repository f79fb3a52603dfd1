from django.urls import include, path

from gongkai.api.api import api
from gongkai.policy.views import home

urlpatterns = [
    path("", home, name="home"),
    path("", include("gongkai.core.urls")),
    path("accounts/", include("gongkai.accounts.urls")),
    path("org/", include("gongkai.org.urls")),
    path("audit/", include("gongkai.audit.urls")),
    path("disclosures/", include("gongkai.disclosure.urls")),
    path("catalog/", include("gongkai.disclosure.catalog_urls")),
    path("rules/", include("gongkai.disclosure.regulation_urls")),
    path("notifications/", include("gongkai.notify.urls")),
    path("boards/", include("gongkai.disclosure.board_urls")),
    path("public/", include("gongkai.disclosure.public_urls")),
    path("search/", include("gongkai.search.urls")),
    path("attachments/", include("gongkai.disclosure.attachment_urls")),
    path("ledger/", include("gongkai.ledger.urls")),
    path("suggestions/", include("gongkai.voice.urls")),
    path("publicity/", include("gongkai.publicity.urls")),
    path("report/", include("gongkai.reporting.urls")),
    path("surveys/", include("gongkai.surveys.urls")),
    path("congress/votes/", include("gongkai.ballots.urls")),
    path("congress/", include("gongkai.congress.urls")),
    path("supervision/", include("gongkai.assessment.urls")),
    path("supervision/", include("gongkai.supervision.urls")),
    path("api/v1/", api.urls),
    path("api/", include("gongkai.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("gongkai.ops.urls")),  # /metrics
]

# Under /api/v1/ the error pages answer in the API's JSON shape (gongkai.api.handlers).
handler400 = "gongkai.api.handlers.bad_request"
handler404 = "gongkai.api.handlers.not_found"
handler500 = "gongkai.api.handlers.server_error"
