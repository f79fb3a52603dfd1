from django.urls import URLPattern, path

from gongkai.supervision import document_views, views

app_name = "supervision"

urlpatterns: list[URLPattern] = [
    path("", views.home, name="home"),
    path("inspections/", views.round_list, name="round_list"),
    path("inspections/new/", views.round_create, name="round_create"),
    path("inspections/<int:pk>/", views.round_detail, name="round_detail"),
    path("inspections/<int:pk>/checklist/", views.round_checklist, name="round_checklist"),
    path("inspections/<int:pk>/close/", views.round_close_view, name="round_close"),
    path("inspections/<int:pk>/circular/", document_views.circular_create, name="circular_create"),
    path("inspections/departments/<int:pk>/", views.inspection_detail, name="inspection_detail"),
    path("inspections/departments/<int:pk>/edit/", views.inspection_edit, name="inspection_edit"),
    path("inspections/departments/<int:pk>/file/", views.inspection_file, name="inspection_file"),
    path(
        "inspections/departments/<int:pk>/findings/new/",
        views.finding_create,
        name="finding_create",
    ),
    path("rectifications/", views.rectification_list, name="rectification_list"),
    path(
        "patrols/<int:patrol_pk>/rectifications/new/",
        views.rectification_from_patrol,
        name="rectification_from_patrol",
    ),
    path("rectifications/<int:pk>/", views.rectification_detail, name="rectification_detail"),
    path(
        "rectifications/<int:pk>/report/",
        views.rectification_report_view,
        name="rectification_report",
    ),
    path(
        "rectifications/<int:pk>/verify/",
        views.rectification_verify_view,
        name="rectification_verify",
    ),
    path(
        "rectifications/<int:pk>/evidence/",
        views.rectification_evidence,
        name="rectification_evidence",
    ),
    path("circulars/", document_views.circular_list, name="circular_list"),
    path("circulars/<int:pk>/", document_views.circular_detail, name="circular_detail"),
    path("circulars/<int:pk>/edit/", document_views.circular_edit, name="circular_edit"),
    path("circulars/<int:pk>/issue/", document_views.circular_issue_view, name="circular_issue"),
    path(
        "circulars/<int:pk>/supersede/",
        document_views.circular_supersede,
        name="circular_supersede",
    ),
    path("circulars/<int:pk>/pdf/", document_views.circular_pdf, name="circular_pdf"),
    path("circulars/<int:pk>/docx/", document_views.circular_docx, name="circular_docx"),
    path("accountability/", document_views.accountability_list, name="accountability_list"),
    path(
        "accountability/new/",
        document_views.accountability_create,
        name="accountability_create",
    ),
    path(
        "accountability/<int:pk>/",
        document_views.accountability_detail,
        name="accountability_detail",
    ),
]
