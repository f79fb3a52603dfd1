"""The publication ledger: an append-only, hash-linked chain of what was published."""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gongkai.ledger import canonical

HEAD_ID = 1  # the single LedgerHead row


class LedgerIsAppendOnly(Exception):
    pass


class RecordType(models.TextChoices):
    REVISION = canonical.REVISION, _("Published revision")
    WITHDRAWAL = canonical.WITHDRAWAL, _("Withdrawal")


class Event(models.TextChoices):
    PUBLISH = "publish", _("Published")
    ATTEST = "attest", _("Nothing to report")
    WITHDRAW = "withdraw", _("Withdrawn")


class ProblemKind(models.TextChoices):
    """What verification can find wrong (see gongkai.ledger.verification)."""

    CONTENT_CHANGED = "content_changed", _("content changed")
    ENTRY_ALTERED = "entry_altered", _("ledger entry altered")
    CHAIN_BROKEN = "chain_broken", _("chain broken")
    ENTRY_MISSING = "entry_missing", _("entry missing")
    RECORD_MISSING = "record_missing", _("record missing")
    WRONG_DISCLOSURE = "wrong_disclosure", _("entry filed under another disclosure")
    NOT_RECORDED = "not_recorded", _("published but not in the ledger")
    HEAD_MISMATCH = "head_mismatch", _("head does not match the chain")
    HEAD_REWRITTEN = "head_rewritten", _("a head written down earlier has changed")
    FILE_CHANGED = "file_changed", _("file changed")
    FILE_RENAMED = "file_renamed", _("file renamed")
    FILE_MISSING = "file_missing", _("file missing")
    FILE_ADDED = "file_added", _("file added after publication")
    LOG_LEAF = "log_leaf", _("transparency log leaf does not match its entry")
    LOG_TREE = "log_tree", _("transparency log tree does not match its leaves")
    CHECKPOINT = "checkpoint", _("checkpoint does not verify")


class LedgerEntryQuerySet(models.QuerySet["LedgerEntry"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise LedgerIsAppendOnly("ledger entries cannot be changed")

    def delete(self) -> NoReturn:
        raise LedgerIsAppendOnly("ledger entries cannot be deleted")


class LedgerEntry(models.Model):
    """Entry ``sequence`` of the chain. ``entry_hash`` covers the sequence, the record, the
    event, ``content_hash`` (the record's canonical content), ``prev_hash``, the time and,
    from canonical version 2 on, the version.
    Rows are only ever inserted: the model refuses save-over and delete, database triggers
    refuse UPDATE, DELETE and TRUNCATE (gongkai.core.immutable), and unique sequence and
    previous hash make a fork impossible even for a writer that skipped the lock."""

    sequence = models.PositiveBigIntegerField(_("sequence"))
    record_type = models.CharField(_("record type"), max_length=40, choices=RecordType.choices)
    record_id = models.PositiveBigIntegerField(_("record id"))
    event = models.CharField(_("event"), max_length=10, choices=Event.choices)
    # Not hashed: an index for the disclosure's page; verification checks it against the
    # record. PROTECT also stops the database from deleting a published disclosure.
    disclosure = models.ForeignKey(
        "disclosure.Disclosure",
        verbose_name=_("disclosure"),
        on_delete=models.PROTECT,
        related_name="ledger_entries",
    )
    content_hash = models.CharField(_("content hash"), max_length=64)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    entry_hash = models.CharField(_("entry hash"), max_length=64)
    recorded_at = models.DateTimeField(_("recorded at"))
    # Which canonical form the hashes follow (gongkai.ledger.canonical): 1 for the entries
    # written before files were part of the record, CURRENT_VERSION for new ones. Hashed into
    # the entry from version 2 on.
    canonical_version = models.PositiveSmallIntegerField(_("canonical version"), default=1)
    # Revision entries from version 2 on: the files published with the revision, exactly as
    # hashed into the content (id, name, type, SHA-256). Verification compares the files with
    # it to name the one that changed; the content hash vouches for it.
    files = models.JSONField(_("files"), null=True, blank=True)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["sequence"]
        constraints = [
            models.UniqueConstraint(fields=["sequence"], name="ledger_sequence_unique"),
            models.UniqueConstraint(fields=["prev_hash"], name="ledger_no_fork"),
            models.UniqueConstraint(
                fields=["record_type", "record_id", "event"], name="ledger_record_once"
            ),
            models.CheckConstraint(condition=models.Q(sequence__gte=1), name="ledger_sequence_1"),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        record_type=RecordType.REVISION, event__in=[Event.PUBLISH, Event.ATTEST]
                    )
                    | models.Q(record_type=RecordType.WITHDRAWAL, event=Event.WITHDRAW)
                ),
                name="ledger_record_event_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.event} {self.record_type}:{self.record_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise LedgerIsAppendOnly("ledger entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise LedgerIsAppendOnly("ledger entries cannot be deleted")

    def computed_hash(self) -> str:
        """The entry hash recomputed from the stored fields."""
        return canonical.entry_hash(
            sequence=self.sequence,
            record_type=self.record_type,
            record_id=self.record_id,
            event=self.event,
            content_hash=self.content_hash,
            prev_hash=self.prev_hash,
            recorded_at=self.recorded_at,
            version=self.canonical_version,
        )


class LedgerHead(models.Model):
    """The single row (pk 1) holding the last sequence and hash. Appends lock it (SELECT …
    FOR UPDATE) so that two publications never read the same head; verification compares it
    with the chain, which shows entries cut off the end."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=HEAD_ID)
    sequence = models.PositiveBigIntegerField(_("sequence"), default=0)
    entry_hash = models.CharField(_("entry hash"), max_length=64, default=canonical.GENESIS_HASH)
    updated_at = models.DateTimeField(_("updated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("ledger head")
        verbose_name_plural = _("ledger head")
        constraints = [
            models.CheckConstraint(condition=models.Q(id=HEAD_ID), name="ledger_head_single")
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.entry_hash}"


# --- Witnesses (C2SP tlog-witness): gongkai.ledger.witness ------------------------------------

# SHA-256 of the empty string: the root of the empty tree (RFC 6962), the state of a log no
# checkpoint of which was cosigned yet.
EMPTY_TREE_ROOT = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


class WitnessedLog(models.Model):
    """Another installation's log that this one witnesses: it cosigns the log's checkpoints
    (``POST /ledger/witness/add-checkpoint``), each only if it is consistent with the last
    one it cosigned, whose size and root it keeps here. The state only moves forward (a
    refusal never changes it); a log is deactivated, never deleted, so that its state
    survives. The last refused request that the log had signed is kept as evidence."""

    origin = models.CharField(_("origin"), max_length=255, unique=True)
    name = models.CharField(pgettext_lazy("thing", "Name"), max_length=100)
    verifier_key = models.CharField(_("the log's verifier key"), max_length=300)
    active = models.BooleanField(_("active"), default=True)
    size = models.PositiveBigIntegerField(_("size last cosigned"), default=0)
    root = models.BinaryField(_("root last cosigned"), default=EMPTY_TREE_ROOT)
    cosigned_at = models.DateTimeField(_("last cosigned at"), null=True, blank=True)
    refused_at = models.DateTimeField(_("last refused at"), null=True, blank=True)
    refusal = models.CharField(_("why it was refused"), max_length=300, blank=True)
    refused_request = models.TextField(_("refused request"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("witnessed log")
        verbose_name_plural = _("witnessed logs")
        ordering = ["name", "origin"]

    def __str__(self) -> str:
        return f"{self.name} ({self.origin})"

    @property
    def short_root(self) -> str:
        """The first 16 hexadecimal digits of the root last cosigned."""
        return bytes(self.root).hex()[:16]


class WitnessResult(models.TextChoices):
    """What the last attempt to have a checkpoint cosigned by a witness came to."""

    COSIGNED = "cosigned", _("cosigned")
    CONFLICT = "conflict", _("refused: not consistent with what it cosigned before")
    INCONSISTENT = "inconsistent", _("refused: the consistency proof does not verify")
    ROLLED_BACK = "rolled_back", _("refused: it cosigned a larger tree of our log")
    UNKNOWN_LOG = "unknown_log", _("refused: it does not witness our log")
    WRONG_KEY = "wrong_key", _("refused: it does not know our log's key")
    BAD_REQUEST = "bad_request", _("refused: bad request")
    INVALID_ANSWER = "invalid_answer", _("its answer is not a valid cosignature")
    UNAVAILABLE = "unavailable", _("unavailable")


class Witness(models.Model):
    """A witness this installation sends its publication log's checkpoints to (C2SP
    tlog-witness): the submission prefix ``url`` (``/add-checkpoint`` is appended), its
    cosignature verifier key (type 0x04; ``key_name`` is the key's name, which its
    cosignature lines carry), the size it last cosigned and how the last attempt went. The
    cosignatures themselves are :class:`gongkai.core.models.LogCosignature` rows."""

    name = models.CharField(pgettext_lazy("thing", "Name"), max_length=100)
    url = models.CharField(_("address"), max_length=500)
    verifier_key = models.CharField(_("the witness's verifier key"), max_length=300)
    key_name = models.CharField(_("key name"), max_length=255, unique=True)
    active = models.BooleanField(_("active"), default=True)
    cosigned_size = models.PositiveBigIntegerField(_("size last cosigned"), default=0)
    cosigned_at = models.DateTimeField(_("last cosigned at"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    last_result = models.CharField(
        _("last result"), max_length=20, choices=WitnessResult.choices, blank=True
    )
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("witness")
        verbose_name_plural = _("witnesses")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def refused(self) -> bool:
        return self.last_result not in ("", WitnessResult.COSIGNED, WitnessResult.UNAVAILABLE)
