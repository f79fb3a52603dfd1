from django.urls import path

from gongkai.api import views

app_name = "api"
urlpatterns = [
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke", views.token_revoke, name="token_revoke"),
    path("services/", views.service_list, name="services"),
    path("services/<int:pk>/", views.service_detail, name="service"),
    path("services/<int:pk>/disable", views.service_disable, name="service_disable"),
]
