from django.urls import path

from gongkai.disclosure import regulation_views

app_name = "rules"
urlpatterns = [
    path("", regulation_views.index, name="index"),
    path("<slug:code>/", regulation_views.detail, name="detail"),
]
