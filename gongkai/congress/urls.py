from django.urls import URLPattern, path

from gongkai.congress import motion_views, record_views, views

app_name = "congress"

urlpatterns: list[URLPattern] = [
    path("", views.index, name="index"),
    path("terms/new/", views.term_create, name="term_create"),
    path("terms/<int:pk>/", views.term_detail, name="term_detail"),
    path("terms/<int:pk>/roster/", views.roster, name="roster"),
    path("terms/<int:pk>/roster/seed/", views.roster_seed, name="roster_seed"),
    path("terms/<int:pk>/delegations/new/", views.delegation_create, name="delegation_create"),
    path("terms/<int:pk>/sessions/new/", views.session_create, name="session_create"),
    path("representatives/<int:pk>/", views.representative_edit, name="representative_edit"),
    path("sessions/<int:pk>/", views.session_detail, name="session_detail"),
    path("sessions/<int:pk>/edit/", views.session_edit, name="session_edit"),
    path("sessions/<int:pk>/quorum/", views.quorum, name="quorum"),
    path("sessions/<int:pk>/check-in/", views.check_in, name="check_in"),
    path("sessions/<int:pk>/attendance/", views.attendance, name="attendance"),
    path("sessions/<int:pk>/motions/new/", motion_views.motion_create, name="motion_create"),
    path("sessions/<int:pk>/<slug:step>/", views.session_step, name="session_step"),
    path("motions/", motion_views.motion_list, name="motion_list"),
    path("motions/<int:pk>/", motion_views.motion_detail, name="motion_detail"),
    path("motions/<int:pk>/edit/", motion_views.motion_edit, name="motion_edit"),
    path("motions/<int:pk>/<slug:step>/", motion_views.motion_step, name="motion_step"),
    path("tracking/", motion_views.tracking, name="tracking"),
    path("tracking.xlsx", motion_views.tracking_xlsx, name="tracking_xlsx"),
    path("patrols/", record_views.patrol_list, name="patrol_list"),
    path("patrols/new/", record_views.patrol_create, name="patrol_create"),
    path("patrols/<int:pk>/", record_views.patrol_detail, name="patrol_detail"),
    path("patrols/<int:pk>/send/", record_views.patrol_send, name="patrol_send"),
    path("directors/", record_views.director_list, name="director_list"),
    path("directors/write/", record_views.director_write, name="director_write"),
    path("directors/<int:pk>/", record_views.director_detail, name="director_detail"),
    path("directors/<int:pk>/publish/", record_views.director_publish, name="director_publish"),
    path("meetings/", record_views.meeting_list, name="meeting_list"),
    path("meetings/new/", record_views.meeting_create, name="meeting_create"),
    path("meetings/<int:pk>/", record_views.meeting_detail, name="meeting_detail"),
    path("meetings/<int:pk>/publish/", record_views.meeting_publish, name="meeting_publish"),
]
