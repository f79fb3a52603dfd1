from django.urls import path, re_path

from gongkai.ledger import views

app_name = "ledger"
urlpatterns = [
    path("", views.head, name="head"),
    path("disclosures/<int:pk>/", views.disclosure_entries, name="disclosure"),
    path("disclosures/<int:pk>/record/<int:sequence>.json", views.record, name="record"),
    # The transparency log (C2SP tlog-tiles), for anyone: no sign-in.
    path("log/checkpoint", views.log_checkpoint, name="checkpoint"),
    re_path(r"^log/(?P<path>tile/[0-9a-z/.x]{1,80})$", views.log_tile, name="tile"),
    path("proof/inclusion", views.proof_inclusion, name="proof_inclusion"),
    path("proof/consistency", views.proof_consistency, name="proof_consistency"),
]
