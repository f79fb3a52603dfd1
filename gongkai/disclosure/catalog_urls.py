from django.urls import path

from gongkai.disclosure import catalog_views

app_name = "catalog"
urlpatterns = [
    path("", catalog_views.index, name="index"),
    path("<slug:code>/", catalog_views.entry_detail, name="entry"),
]
