from django.urls import URLPattern, path

from gongkai.assessment import views

app_name = "assessment"

urlpatterns: list[URLPattern] = [
    path("compliance/", views.compliance, name="compliance"),
    path("compliance/export.xlsx", views.compliance_export, name="compliance_export"),
    path(
        "compliance/<slug:code>/obligations/",
        views.compliance_obligations,
        name="compliance_obligations",
    ),
    path("assessment/", views.assessment, name="assessment"),
    path("assessment/weights/", views.scheme, name="scheme"),
    path("assessment/publish/", views.publish, name="publish"),
    path("assessment/rankings/<int:pk>/", views.ranking, name="ranking"),
    path("assessment/<str:period>/<slug:code>/", views.assessment_unit, name="assessment_unit"),
    path("report/", views.report_current, name="report_current"),
    path("report/<int:year>/", views.report, name="report"),
    path("report/<int:year>/report.pdf", views.report_pdf, name="report_pdf"),
]
