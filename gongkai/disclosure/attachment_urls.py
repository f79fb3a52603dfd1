from django.urls import path

from gongkai.disclosure import attachment_views

app_name = "attachments"
urlpatterns = [
    path("<int:pk>/", attachment_views.download, name="download"),
]
