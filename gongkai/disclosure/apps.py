from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisclosureConfig(AppConfig):
    name = "gongkai.disclosure"
    verbose_name = _("Disclosure")

    def ready(self) -> None:
        # Not at the top: these modules use the models, which are loaded only now.
        from gongkai.disclosure import deadlines, ledger_records, search_source

        ledger_records.register()  # what the publication ledger hashes and verifies
        search_source.register()  # what the search index holds and who finds it
        deadlines.register()  # the catalog's obligations, for the reminder engine
