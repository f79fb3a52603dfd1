from django.urls import path

from gongkai.disclosure import views

app_name = "disclosure"
urlpatterns = [
    path("", views.work, name="work"),
    path("new/", views.create, name="create"),
    path("attest/", views.attest, name="attest"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/history/", views.history, name="history"),
    path("<int:pk>/step/<slug:transition>/", views.step, name="step"),
    path("<int:pk>/attachments/", views.attachment_upload, name="attachment_add"),
    path(
        "<int:pk>/attachments/<int:attachment_pk>/remove/",
        views.attachment_delete,
        name="attachment_remove",
    ),
]
