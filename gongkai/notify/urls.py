from django.urls import path

from gongkai.notify import views as notification_views

app_name = "notifications"
urlpatterns = [
    path("", notification_views.notification_list, name="list"),
    path("read/", notification_views.notification_read_all, name="read_all"),
    path("preferences/", notification_views.preferences, name="preferences"),
    path("robots/", notification_views.robot_list, name="robots"),
    path("robots/add/", notification_views.robot_add, name="robot_add"),
    path("robots/<int:pk>/", notification_views.robot_edit, name="robot_edit"),
    path("robots/<int:pk>/enabled/", notification_views.robot_toggle, name="robot_toggle"),
    path("robots/<int:pk>/delete/", notification_views.robot_delete, name="robot_delete"),
    path("robots/<int:pk>/test/", notification_views.robot_test, name="robot_test"),
    path("events/", notification_views.endpoint_list, name="endpoints"),
    path("events/add/", notification_views.endpoint_add, name="endpoint_add"),
    path("events/<int:pk>/", notification_views.endpoint_edit, name="endpoint_edit"),
    path("events/<int:pk>/enabled/", notification_views.endpoint_toggle, name="endpoint_toggle"),
    path("events/<int:pk>/delete/", notification_views.endpoint_delete, name="endpoint_delete"),
    path("events/<int:pk>/test/", notification_views.endpoint_test, name="endpoint_test"),
    path("deliveries/", notification_views.delivery_list, name="deliveries"),
    path("deliveries/<int:pk>/", notification_views.delivery_detail, name="delivery"),
    path("failures/", notification_views.failure_list, name="failures"),
]
