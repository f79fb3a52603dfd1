from django.urls import path

from gongkai.ledger import views

app_name = "ledger"
urlpatterns = [
    path("", views.head, name="head"),
    path("disclosures/<int:pk>/", views.disclosure_entries, name="disclosure"),
]
