from django.urls import URLPattern, path

from gongkai.publicity import views

app_name = "publicity"

urlpatterns: list[URLPattern] = [
    path("", views.index, name="index"),
    path("calendar/", views.calendar_current, name="calendar_current"),
    path("calendar/<int:year>/", views.calendar, name="calendar"),
    path("calendar/day/<int:pk>/remove/", views.calendar_remove, name="calendar_remove"),
    path("open/<int:disclosure_pk>/", views.open_window, name="open"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/object/", views.file_objection, name="object"),
    path("<int:pk>/outcome/", views.publish_outcome, name="outcome"),
    path("objection/<int:pk>/finding/", views.record_finding, name="finding"),
    path("evidence/<int:pk>/", views.evidence, name="evidence"),
]
