from django.urls import path

from gongkai.ops import views

app_name = "ops"
# /metrics, without a trailing slash: where Prometheus looks by default.
urlpatterns = [path("metrics", views.metrics, name="metrics")]
