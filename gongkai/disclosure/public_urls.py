from django.urls import path

from gongkai.disclosure import board_views, feeds

app_name = "public"
urlpatterns = [
    path("", board_views.public_index, name="index"),
    path("feed/", feeds.public_feed, name="feed"),
    path("<int:pk>/", board_views.public_detail, name="detail"),
]
