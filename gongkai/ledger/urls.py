from django.urls import path, re_path

from gongkai.ledger import views, witness_views

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
    # Witnesses (C2SP tlog-witness): the endpoint for other logs, the union office's pages.
    path("witness/add-checkpoint", witness_views.add_checkpoint, name="add_checkpoint"),
    path("witnesses/", witness_views.witness_list, name="witnesses"),
    path("witnesses/add", witness_views.witness_add, name="witness_add"),
    path("witnesses/<int:pk>/", witness_views.witness_edit, name="witness_edit"),
    path(
        "witnesses/<int:pk>/deactivate", witness_views.witness_deactivate, name="witness_deactivate"
    ),
    path("witnesses/<int:pk>/activate", witness_views.witness_activate, name="witness_activate"),
    path("witnessed/add", witness_views.witnessed_add, name="witnessed_add"),
    path("witnessed/<int:pk>/", witness_views.witnessed_edit, name="witnessed_edit"),
    path(
        "witnessed/<int:pk>/deactivate",
        witness_views.witnessed_deactivate,
        name="witnessed_deactivate",
    ),
    path(
        "witnessed/<int:pk>/activate", witness_views.witnessed_activate, name="witnessed_activate"
    ),
]
