from django.urls import URLPattern, path

from gongkai.reporting import views

app_name = "reporting"

# The reporter's pages are everything under /report/ except /report/inbox/ (the inspectors');
# gongkai.accounts.middleware relies on that to leave them alone.
urlpatterns: list[URLPattern] = [
    path("", views.submit, name="submit"),
    path("receipt/", views.receipt, name="receipt"),
    path("receipt/add/", views.receipt_add, name="receipt_add"),
    path("language/", views.language, name="language"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/new/", views.enter, name="enter"),
    path("inbox/channel/", views.channel, name="channel"),
    path("inbox/<uuid:pk>/", views.detail, name="detail"),
    path("inbox/<uuid:pk>/status/", views.transition, name="transition"),
    path("inbox/<uuid:pk>/reply/", views.reply, name="reply"),
    path("inbox/<uuid:pk>/duplicate/", views.duplicate, name="duplicate"),
    path("inbox/<uuid:pk>/evidence/<uuid:evidence_pk>/", views.evidence, name="evidence"),
]
