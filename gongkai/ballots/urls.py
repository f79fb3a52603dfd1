from django.urls import URLPattern, path

from gongkai.ballots import views

app_name = "ballots"

urlpatterns: list[URLPattern] = [
    path("", views.poll_list, name="list"),
    path("new/<str:kind>/", views.poll_new, name="new"),
    path("<int:pk>/", views.poll_detail, name="detail"),
    path("<int:pk>/edit/", views.poll_edit, name="edit"),
    path("<int:pk>/open/", views.poll_open_view, name="open"),
    path("<int:pk>/vote/", views.vote, name="vote"),
    path("<int:pk>/confirm/", views.confirm, name="confirm"),
    path("<int:pk>/cast/", views.cast_view, name="cast"),
    path("<int:pk>/cast/done/", views.done, name="done"),
    path("<int:pk>/my-status/", views.my_status, name="my_status"),
    path("<int:pk>/turnout/", views.turnout_view, name="turnout"),
    path("<int:pk>/close/", views.poll_close_view, name="close"),
    path("<int:pk>/publish/", views.poll_publish_view, name="publish"),
    path("<int:pk>/results/", views.results, name="results"),
    path("<int:pk>/recount/", views.recount, name="recount"),
]
