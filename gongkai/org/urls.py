from django.urls import path

from gongkai.org import roster_views, views

app_name = "org"
urlpatterns = [
    path("", views.unit_list, name="unit_list"),
    path("roster/", roster_views.roster_import, name="roster_import"),
    path("roster/confirm/", roster_views.roster_confirm, name="roster_confirm"),
    path("people/<str:employee_no>/", views.person_detail, name="person_detail"),
    path("people/<str:employee_no>/unlock/", views.person_unlock, name="person_unlock"),
    path("people/<str:employee_no>/password/", views.person_password, name="person_password"),
    path("people/<str:employee_no>/active/", views.person_active, name="person_active"),
    path("roles/<int:pk>/revoke/", views.role_revoke_view, name="role_revoke"),
    path("units/<slug:code>/", views.unit_detail, name="unit_detail"),
    path("units/<slug:code>/roles/", views.role_grant_view, name="role_grant"),
]
