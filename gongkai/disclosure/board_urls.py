from django.urls import path

from gongkai.disclosure import board_views, feeds

app_name = "boards"
urlpatterns = [
    path("", board_views.index, name="index"),
    path("rate/<int:pk>/", board_views.rate, name="rate"),
    path("<slug:code>/", board_views.board, name="board"),
    path("<slug:code>/feed/", feeds.board_feed, name="feed"),
]
