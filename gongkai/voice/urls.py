from django.urls import path

from gongkai.voice import views

app_name = "voice"

urlpatterns = [
    path("", views.suggestion_list, name="list"),
    path("mine/", views.mine, name="mine"),
    path("queue/", views.queue, name="queue"),
    path("new/", views.submit, name="submit"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/follow/", views.follow, name="follow"),
    path("<int:pk>/step/<slug:step>/", views.act, name="act"),
    path("<int:pk>/files/<int:attachment_pk>/", views.attachment, name="attachment"),
]
