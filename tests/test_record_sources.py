"""The ledger and the search index stand below the disclosures: they read them only through
the sources the disclosure app registers when it is ready (gongkai.ledger.sources,
gongkai.search.sources)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured

from gongkai.core.scope import Scope
from gongkai.disclosure.ledger_records import PublishedRevisions, Withdrawals
from gongkai.disclosure.search_source import PublishedDisclosures
from gongkai.ledger import canonical
from gongkai.ledger import sources as ledger_sources
from gongkai.ledger.models import LedgerEntry, RecordType
from gongkai.search import sources as search_sources
from tests.conftest import Org
from tests.factories import published_disclosure


def test_the_disclosure_app_registers_its_sources():
    assert isinstance(ledger_sources.source(RecordType.REVISION), PublishedRevisions)
    assert isinstance(ledger_sources.source(RecordType.WITHDRAWAL), Withdrawals)
    assert isinstance(search_sources.source(), PublishedDisclosures)


def test_a_record_type_without_a_source_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured):
        ledger_sources.source("voice.suggestion")


def test_a_record_loaded_for_verification_hashes_as_it_was_appended(org: Org):
    disclosure = published_disclosure(unit=org.boiler)
    revisions = ledger_sources.source(RecordType.REVISION)
    appended = revisions.current(disclosure.pk)
    [loaded] = revisions.load([appended.record_id])
    entry = LedgerEntry.objects.get(record_type=RecordType.REVISION, record_id=loaded.record_id)
    assert (loaded.disclosure_id, loaded.title) == (disclosure.pk, disclosure.title)
    assert loaded.lists_files and entry.files == loaded.files == []
    assert canonical.content_hash(loaded.content(entry.canonical_version)) == entry.content_hash
    assert revisions.load([999_999]) == []
    with pytest.raises(ValueError):
        ledger_sources.source(RecordType.WITHDRAWAL).current(disclosure.pk)


def test_the_ledger_page_reads_only_what_its_reader_may_read(org: Org):
    internal = published_disclosure(unit=org.boiler, scope=Scope.INTERNAL)
    public = published_disclosure(unit=org.boiler, title="公开的", scope=Scope.PUBLIC)
    anonymous = AnonymousUser()
    assert ledger_sources.readable_disclosure(anonymous, internal.pk) is None
    assert ledger_sources.readable_disclosure(anonymous, public.pk) == public
    assert ledger_sources.readable_disclosure(org["employee"], internal.pk) == internal
    assert ledger_sources.readable_disclosure(org["employee"], 999_999) is None


def test_the_search_source_indexes_the_published_revision(org: Org):
    disclosure = published_disclosure(unit=org.boiler, title="锅炉检修招标结果公示")
    item = search_sources.source().indexed(disclosure)
    assert item is not None
    assert (item.disclosure, item.revision.pk) == (disclosure, disclosure.published_revision_id)
    assert (item.title, item.unit, item.scope) == (disclosure.title, org.boiler, disclosure.scope)
    assert [i.disclosure for i in search_sources.source().everything(chunk_size=10)] == [disclosure]
