"""Signed notes, checkpoints and witness cosignatures in the C2SP formats (gongkai.core.tlog.notes):
what we sign must open in the Go note package and other transparency-log tools byte for byte,
and what we open must refuse every forgery, alteration and malformed input."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gongkai.core.tlog import notes
from gongkai.core.tlog.notes import (
    CheckpointError,
    CosignatureError,
    InvalidSignatureError,
    KeyFormatError,
    MalformedNoteError,
    NoteError,
    UnverifiedNoteError,
)

# The example of the documentation of golang.org/x/mod/sumdb/note.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIGNATURE = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpR"
    "Zb6KE6RyyBwJnAM=\n"
)
GO_NOTE = GO_TEXT + "\n" + GO_SIGNATURE
GO_ENOCH = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33"
    "WWd1RvMc+QQ=\n"
)

# The verifier key example of c2sp.org/signed-note.
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n"
    "\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXm"
    "RKuwHjG1Yu72IneyaQM=\n"
)

# The checkpoint and witness cosignature examples of c2sp.org/tlog-checkpoint and
# c2sp.org/tlog-cosignature (their keys are not published).
C2SP_CHECKPOINT = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)
C2SP_COSIGNED = (
    C2SP_CHECKPOINT
    + "\n"
    + "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zh"
    "cyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    + "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b"
    "2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)
# A witness (type 0x04) verifier key from the tests of transparency-dev/formats.
REMORA_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"

T0 = 1_700_000_000  # a pinned cosignature time


def key_strings(name: str, seed: int, algorithm: int = notes.ALG_ED25519) -> tuple[str, str]:
    """A fixed key (the seed byte repeated) as (signer key, verifier key) strings, encoded
    here independently of the module."""
    private = Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
    public = bytes([algorithm]) + private.public_key().public_bytes_raw()
    digest = hashlib.sha256(name.encode() + b"\n" + public).digest()[:4].hex()
    secret = base64.b64encode(bytes([algorithm]) + bytes([seed]) * 32).decode()
    return (
        f"PRIVATE+KEY+{name}+{digest}+{secret}",
        f"{name}+{digest}+{base64.b64encode(public).decode()}",
    )


def signer(name: str, seed: int) -> notes.Signer:
    return notes.parse_signer(key_strings(name, seed)[0])


def witness(name: str, seed: int) -> notes.Signer:
    return notes.parse_witness_signer(key_strings(name, seed, notes.ALG_COSIGNATURE_V1)[0])


LOG = signer("log.example/gongkai", 1)
OTHER = signer("other.example/log", 2)
W1 = witness("witness.example/w1", 3)
W2 = witness("witness.example/w2", 4)
ROOT = hashlib.sha256(b"a root").digest()
CHECKPOINT = notes.format_checkpoint("log.example/gongkai", 42, ROOT)


def forged_line(name: str, key_hash: int, impostor: notes.Signer, text: str) -> str:
    """A signature line that claims ``name`` and ``key_hash`` but is signed by another key."""
    raw = key_hash.to_bytes(4, "big") + impostor.private_key.sign(text.encode())
    return f"— {name} {base64.b64encode(raw).decode()}\n"


def flip_signature(line: str, index: int = -1) -> str:
    """The line with one bit of its decoded bytes flipped (by default in the signature)."""
    head, b64 = line.rstrip("\n").rsplit(" ", 1)
    raw = bytearray(base64.b64decode(b64))
    raw[index] ^= 0x01
    return f"{head} {base64.b64encode(bytes(raw)).decode()}\n"


# --- known answers -------------------------------------------------------------------------


def test_the_go_example_key_signs_the_go_example_note_byte_for_byte():
    assert notes.sign(GO_TEXT, [notes.parse_signer(GO_SKEY)]) == GO_NOTE.encode()


def test_the_go_example_keys_encode_back_to_themselves():
    go_signer = notes.parse_signer(GO_SKEY)
    go_verifier = notes.parse_verifier(GO_VKEY)
    assert go_signer.encode() == GO_SKEY
    assert go_verifier.encode() == GO_VKEY
    assert go_signer.verifier == go_verifier
    assert (go_verifier.name, go_verifier.key_hash) == ("PeterNeumann", 0xC74F20A3)


def test_the_go_example_note_opens_with_its_key():
    opened = notes.open_note(GO_NOTE.encode(), [notes.parse_verifier(GO_VKEY)])
    assert opened.text == GO_TEXT
    assert [v.name for v in opened.verified_by] == ["PeterNeumann"]
    assert opened.signatures[0].line == GO_SIGNATURE
    assert opened.unverified == ()


def test_the_go_doubly_signed_example_keeps_the_unknown_signature_unverified():
    opened = notes.open_note(GO_NOTE + GO_ENOCH, [notes.parse_verifier(GO_VKEY)])
    assert [v.name for v in opened.verified_by] == ["PeterNeumann"]
    assert [s.line for s in opened.unverified] == [GO_ENOCH]


def test_the_c2sp_example_verifier_key_opens_its_note():
    opened = notes.open_note(C2SP_NOTE, [notes.parse_verifier(C2SP_VKEY)])
    assert opened.text == "This is an example message.\n"
    assert opened.verified_by[0].key_hash == 0x530D903A


def test_the_c2sp_example_note_with_a_blank_line_in_its_text_splits_at_the_last_one():
    note = (
        "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\n"
        "ed è subito sera.\n"
        "\n— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrM"
        "ouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
    )
    text, signatures = notes.split_note(note)
    assert text.endswith(":\n\ned è subito sera.\n")
    assert [s.name for s in signatures] == ["quasimodo.example/salvatore"]
    with pytest.raises(UnverifiedNoteError):
        notes.open_note(note, [LOG.verifier])  # its key is not published: never trusted


def test_a_published_witness_key_parses_with_the_cosignature_key_id():
    remora = notes.parse_witness_verifier(REMORA_VKEY)
    assert remora.is_witness and remora.key_hash == 0xDA77ADE7
    assert remora.encode() == REMORA_VKEY
    with pytest.raises(KeyFormatError, match="witness key"):
        notes.parse_verifier(REMORA_VKEY)  # never a log's key


def test_the_c2sp_example_cosignature_states_the_example_time():
    _, signatures = notes.split_note(C2SP_COSIGNED)
    assert notes.cosignature_timestamp(signatures[1]) == 1679315147  # "time 1679315147"
    with pytest.raises(CosignatureError):
        notes.cosignature_timestamp(signatures[0])  # the log's own signature is not one
    assert notes.parse_checkpoint(notes.split_note(C2SP_COSIGNED)[0]) == notes.Checkpoint(
        "example.com/behind-the-sofa",
        20852163,
        base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="),
    )
    assert (
        notes.format_checkpoint(
            "example.com/behind-the-sofa",
            20852163,
            base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="),
        )
        == C2SP_CHECKPOINT
    )


def test_key_ids_follow_the_spec():
    public = LOG.verifier.public_key
    expected = hashlib.sha256(b"log.example/gongkai\n\x01" + public).digest()[:4]
    assert LOG.key_hash == int.from_bytes(expected, "big")
    witness_public = W1.verifier.public_key
    expected = hashlib.sha256(b"witness.example/w1\n\x04" + witness_public).digest()[:4]
    assert W1.key_hash == int.from_bytes(expected, "big")


# --- keys ----------------------------------------------------------------------------------


def test_generated_keys_round_trip():
    skey, vkey = notes.generate_signer("gongkai.example/ledger")
    assert skey.startswith("PRIVATE+KEY+gongkai.example/ledger+")
    parsed = notes.parse_signer(skey)
    assert parsed.verifier == notes.parse_verifier(vkey)
    assert parsed.encode() == skey
    assert "PRIVATE" not in repr(parsed) and skey.split("+", 4)[4] not in repr(parsed)
    note = notes.sign("hello\n", [parsed])
    assert notes.open_note(note, [notes.parse_verifier(vkey)]).text == "hello\n"
    a, b = notes.generate_signer("x"), notes.generate_signer("x")
    assert a != b  # fresh randomness each time


def test_generated_witness_keys_round_trip():
    skey, vkey = notes.generate_witness("witness.example/new")
    assert base64.b64decode(vkey.split("+", 2)[2])[0] == 0x04
    cosigner = notes.parse_witness_signer(skey)
    line = notes.cosign(CHECKPOINT, cosigner, timestamp=T0)
    assert notes.verify_cosignature(CHECKPOINT, line, notes.parse_witness_verifier(vkey)) == T0


_, LOG_VKEY = key_strings("log.example/gongkai", 1)
LOG_SKEY, _ = key_strings("log.example/gongkai", 1)
_, _HASH, _KEY = LOG_VKEY.split("+", 2)  # base64 may contain "+" too
_SEED = LOG_SKEY.split("+", 4)[4]


def _with_type(key64: str, algorithm: int) -> str:
    raw = base64.b64decode(key64)
    return base64.b64encode(bytes([algorithm]) + raw[1:]).decode()


@pytest.mark.parametrize(
    "vkey, message",
    [
        ("", "expected"),
        ("log.example/gongkai", "expected"),
        (f"log.example/gongkai+{_HASH}", "expected"),
        (f"+{_HASH}+{_KEY}", "key name"),
        (f"log example+{_HASH}+{_KEY}", "key name"),
        (f"log.example/gongkai\t+{_HASH}+{_KEY}", "key name"),
        (f"log.example/gong\u00a0kai+{_HASH}+{_KEY}", "key name"),
        (f"log.example/gong\u3000kai+{_HASH}+{_KEY}", "key name"),
        (f"log.example/gongkai+00000000+{_KEY}", "does not match"),
        (f"log.example/gongkai+{_HASH.upper()[:7]}+{_KEY}", "8 hexadecimal"),
        (f"log.example/gongkai+0x{_HASH[:6]}+{_KEY}", "8 hexadecimal"),
        (f"log.example/gongkai+{_HASH[:4]}_{_HASH[5:]}+{_KEY}", "8 hexadecimal"),
        (f"log.example/gongkai+{_HASH}0+{_KEY}", "8 hexadecimal"),
        (f"log.example/gongkai+{_HASH}+{_KEY[:-1]}", "base64"),
        (f"log.example/gongkai+{_HASH}+{_KEY[:-4]}", "32 bytes"),
        (f"log.example/gongkai+{_HASH}+{_KEY} ", "base64"),
        (f"log.example/gongkai+{_HASH}+", "empty"),
        (f"log.example/gongkai+{_HASH}+{_with_type(_KEY, 0x02)}", "unknown signature type"),
        (f"log.example/gongkai+{_HASH}+{_with_type(_KEY, 0x04)}", "witness key"),
        (LOG_SKEY, "signer key"),
    ],
)
def test_malformed_verifier_keys_are_refused_clearly(vkey, message):
    with pytest.raises(KeyFormatError, match=message):
        notes.parse_verifier(vkey)


def test_a_key_with_the_wrong_name_for_its_id_is_refused():
    renamed = LOG_VKEY.replace("log.example/gongkai", "log.example/other")
    with pytest.raises(KeyFormatError, match="does not match"):
        notes.parse_verifier(renamed)


def test_an_uppercase_key_id_is_read_as_go_reads_it():
    assert notes.parse_verifier(LOG_VKEY.replace(_HASH, _HASH.upper())) == LOG.verifier


@pytest.mark.parametrize(
    "skey, message",
    [
        (LOG_VKEY, "PRIVATE"),
        ("PRIVATE+KEY+", "expected"),
        (LOG_SKEY.replace("PRIVATE+KEY", "private+key"), "PRIVATE"),
        (LOG_SKEY.replace(f"+{_HASH}+", "+00000000+"), "does not match"),
        (LOG_SKEY.replace("log.example/gongkai", "log.example/other"), "does not match"),
        (LOG_SKEY.replace("log.example/gongkai", "log example"), "key name"),
        (LOG_SKEY[:-4], "base64|32 bytes"),
        (LOG_SKEY.replace(_SEED, _with_type(_SEED, 0x05)), "type"),
        (key_strings("w", 3, notes.ALG_COSIGNATURE_V1)[0], "witness key"),
    ],
)
def test_malformed_signer_keys_are_refused_clearly(skey, message):
    with pytest.raises(KeyFormatError, match=message):
        notes.parse_signer(skey)


def test_witness_keys_and_note_keys_are_not_interchangeable():
    with pytest.raises(KeyFormatError, match="note signing key"):
        notes.parse_witness_verifier(LOG_VKEY)
    with pytest.raises(KeyFormatError, match="note signing key"):
        notes.parse_witness_signer(LOG_SKEY)


@pytest.mark.parametrize("name", ["", "with space", "a+b", "tab\there", "new\nline", "\u2028"])
def test_keys_cannot_be_generated_with_bad_names(name):
    with pytest.raises(KeyFormatError):
        notes.generate_signer(name)
    with pytest.raises(KeyFormatError):
        notes.generate_witness(name)


# --- signing and opening -------------------------------------------------------------------


def test_a_note_signed_by_several_keys_opens_with_any_of_them():
    note = notes.sign("line one\nline two\n", [LOG, OTHER])
    assert note.count("\n— ".encode()) == 2
    both = notes.open_note(note, [LOG.verifier, OTHER.verifier])
    assert both.verified_by == (LOG.verifier, OTHER.verifier)
    one = notes.open_note(note.decode(), [OTHER.verifier])
    assert one.verified_by == (OTHER.verifier,)
    assert [s.name for s in one.unverified] == [LOG.name]


def test_unicode_text_round_trips():
    text = "公开 ledger\n第二行 — em dash\n"
    assert notes.open_note(notes.sign(text, [LOG]), [LOG.verifier]).text == text


def test_a_note_no_known_key_signed_is_refused():
    note = notes.sign("text\n", [OTHER])
    with pytest.raises(UnverifiedNoteError):
        notes.open_note(note, [LOG.verifier])
    with pytest.raises(UnverifiedNoteError):
        notes.open_note(note, [])


def test_a_known_key_with_a_different_id_is_another_key_and_ignored():
    """Same name, other key ID: an unknown key (the spec says ignore it), not a forgery."""
    impostor = signer(LOG.name, 9)
    note = notes.sign("text\n", [LOG, impostor])
    opened = notes.open_note(note, [LOG.verifier])
    assert opened.verified_by == (LOG.verifier,)
    assert [s.key_hash for s in opened.unverified] == [impostor.key_hash]
    with pytest.raises(UnverifiedNoteError):
        notes.open_note(notes.sign("text\n", [impostor]), [LOG.verifier])


def test_a_forged_line_for_a_known_key_is_an_error_even_beside_a_good_one():
    good = notes.sign("text\n", [LOG])
    forged = forged_line(LOG.name, LOG.key_hash, OTHER, "text\n")
    with pytest.raises(InvalidSignatureError) as caught:
        notes.open_note(good + forged.encode(), [LOG.verifier])
    assert (caught.value.name, caught.value.key_hash) == (LOG.name, LOG.key_hash)
    with pytest.raises(InvalidSignatureError):
        notes.open_note("text\n\n" + forged, [LOG.verifier])


def test_an_altered_signature_or_text_is_an_error():
    note = notes.sign("amount: 100\n", [LOG]).decode()
    text, line = note.split("\n\n")
    with pytest.raises(InvalidSignatureError):
        notes.open_note(text + "\n\n" + flip_signature(line + "\n"), [LOG.verifier])
    with pytest.raises(InvalidSignatureError):
        notes.open_note(note.replace("100", "900"), [LOG.verifier])
    with pytest.raises(InvalidSignatureError):
        notes.open_note("\n" + note, [LOG.verifier])  # a line added in front of the text


def test_a_signature_of_the_wrong_length_for_a_known_key_is_an_error():
    line = f"— {LOG.name} {base64.b64encode(LOG.key_hash.to_bytes(4, 'big') + b'x').decode()}\n"
    with pytest.raises(InvalidSignatureError):
        notes.open_note("text\n\n" + line, [LOG.verifier])


def test_repeated_identical_lines_count_once():
    note = notes.sign("text\n", [LOG]).decode()
    line = note.split("\n\n")[1]
    other = notes.sign("text\n", [OTHER]).decode().split("\n\n")[1]
    opened = notes.open_note(note + line + other + other, [LOG.verifier])
    assert opened.verified_by == (LOG.verifier,)
    assert len(opened.unverified) == 1


def test_two_different_keys_under_one_name_and_id_are_refused():
    twin = notes.Verifier(LOG.name, LOG.key_hash, notes.ALG_ED25519, OTHER.verifier.public_key)
    with pytest.raises(KeyFormatError, match="share"):
        notes.open_note(notes.sign("text\n", [LOG]), [LOG.verifier, twin])
    assert notes.open_note(notes.sign("text\n", [LOG]), [LOG.verifier, LOG.verifier])


def test_a_note_may_carry_one_hundred_signatures_and_no_more():
    note = notes.sign("text\n", [LOG]).decode()
    unknown = notes.sign("text\n", [OTHER]).decode().split("\n\n")[1]
    lines = [flip_signature(unknown, 5 + i % 60) for i in range(100)]
    assert len(set(lines)) == 60
    full = note + "".join(lines[:99])
    assert len(notes.open_note(full, [LOG.verifier]).unverified) == 60
    with pytest.raises(MalformedNoteError, match="more than 100"):
        notes.open_note(full + lines[99], [LOG.verifier])


# Every note below is refused as malformed, whatever the keys.
_GOOD = notes.sign("text\n", [LOG]).decode()
_TEXT, _LINE = _GOOD.split("\n\n")
MALFORMED_NOTES = {
    "no blank line": _TEXT + "\n" + _LINE,
    "no signature": _TEXT + "\n\n",
    "no final newline": _GOOD[:-1],
    "text without newline": "text" + "\n" + _LINE,
    "hyphen for em dash": _TEXT + "\n\n" + _LINE.replace("—", "-", 1),
    "en dash for em dash": _TEXT + "\n\n" + _LINE.replace("—", "–", 1),
    "no space after the dash": _TEXT + "\n\n" + _LINE.replace("— ", "—", 1),
    "two spaces": _TEXT + "\n\n" + _LINE.replace(" ", "  ", 1),
    "no signature after the name": f"{_TEXT}\n\n— {LOG.name}\n",
    "empty signature": f"{_TEXT}\n\n— {LOG.name} \n",
    "not base64": f"{_TEXT}\n\n— {LOG.name} !!!!\n",
    "url-safe base64": f"{_TEXT}\n\n— {LOG.name} {'_-' * 38}\n",
    "missing padding": _TEXT + "\n\n" + _LINE.rstrip("=\n") + "\n",
    "four bytes only": f"{_TEXT}\n\n— {LOG.name} AAAAAA==\n",
    "trailing space": _TEXT + "\n\n" + _LINE.rstrip("\n") + " \n",
    "CRLF line ends": _GOOD.replace("\n", "\r\n"),
    "CR in the text": "te\rxt\n\n" + _LINE,
    "tab in the text": "te\txt\n\n" + _LINE,
    "NUL in the text": "te\x00xt\n\n" + _LINE,
    "name with a plus": _TEXT + "\n\n" + _LINE.replace(LOG.name, "a+b", 1),
}


@pytest.mark.parametrize("note", MALFORMED_NOTES.values(), ids=MALFORMED_NOTES.keys())
def test_malformed_notes_are_refused(note):
    with pytest.raises(MalformedNoteError):
        notes.open_note(note, [LOG.verifier])


def test_a_blank_line_among_the_signatures_makes_them_text():
    """The last blank line separates text and signatures: a signature line above it is
    text, and the signature below no longer verifies."""
    with pytest.raises(InvalidSignatureError):
        notes.open_note(_GOOD + "\n" + _LINE, [LOG.verifier])


def test_notes_that_are_not_utf8_are_refused():
    with pytest.raises(MalformedNoteError, match="UTF-8"):
        notes.open_note(b"caf\xe9\n\n" + _LINE.encode(), [LOG.verifier])
    with pytest.raises(MalformedNoteError, match="UTF-8"):
        notes.open_note("\ud800\n\n" + _LINE, [LOG.verifier])
    with pytest.raises(MalformedNoteError):
        notes.open_note(12, [LOG.verifier])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text, message",
    [
        ("no newline", "newline"),
        ("", "newline"),
        ("crlf\r\n", "control"),
        ("tab\there\n", "control"),
        ("\ud800\n", "UTF-8"),
    ],
)
def test_text_that_cannot_be_a_note_is_not_signed(text, message):
    with pytest.raises(MalformedNoteError, match=message):
        notes.sign(text, [LOG])


def test_signing_needs_distinct_note_keys():
    with pytest.raises(NoteError, match="at least one"):
        notes.sign("text\n", [])
    with pytest.raises(NoteError, match="twice"):
        notes.sign("text\n", [LOG, signer(LOG.name, 1)])
    with pytest.raises(NoteError, match="cosign"):
        notes.sign(CHECKPOINT, [W1])


def test_a_text_with_blank_lines_round_trips():
    """The spec allows empty lines in the text: the last blank line separates the
    signatures."""
    for text in ["a\n\nb\n", "a\n\n", "\n", "a\n\n\nb\n"]:
        assert notes.open_note(notes.sign(text, [LOG]), [LOG.verifier]).text == text


def test_signatures_can_be_appended():
    note = notes.sign(CHECKPOINT, [LOG])
    line = notes.cosign(CHECKPOINT, W1, timestamp=T0)
    both = notes.append_signatures(note, [line, line])
    assert both == note + line.encode()
    assert notes.append_signatures(both, [line]) == both
    with pytest.raises(MalformedNoteError):
        notes.append_signatures(note, [line.rstrip("\n")])
    with pytest.raises(MalformedNoteError):
        notes.append_signatures(note, ["not a signature\n"])
    with pytest.raises(MalformedNoteError):
        notes.append_signatures(note, [line + line])


# --- checkpoints ---------------------------------------------------------------------------


def test_a_checkpoint_round_trips_with_extension_lines():
    text = notes.format_checkpoint("log.example/gongkai", 7, ROOT, ["ext one", "扩展"])
    assert text == (f"log.example/gongkai\n7\n{base64.b64encode(ROOT).decode()}\next one\n扩展\n")
    checkpoint = notes.parse_checkpoint(text)
    assert checkpoint == notes.Checkpoint("log.example/gongkai", 7, ROOT, ("ext one", "扩展"))
    assert checkpoint.text == text


def test_the_empty_tree_has_the_hash_of_nothing():
    empty = notes.format_checkpoint("log.example/gongkai", 0, notes.EMPTY_TREE_ROOT)
    assert notes.parse_checkpoint(empty).size == 0
    with pytest.raises(CheckpointError, match="empty tree"):
        notes.format_checkpoint("log.example/gongkai", 0, ROOT)
    with pytest.raises(CheckpointError, match="empty tree"):
        notes.parse_checkpoint(CHECKPOINT.replace("\n42\n", "\n0\n"))


def test_the_largest_tree_size():
    big = notes.format_checkpoint("o", 2**63 - 1, ROOT)
    assert notes.parse_checkpoint(big).size == 2**63 - 1
    with pytest.raises(CheckpointError, match="too large"):
        notes.parse_checkpoint(big.replace(str(2**63 - 1), str(2**63)))


_ROOT64 = base64.b64encode(ROOT).decode()
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# The same 32 bytes with a padding bit set: the last character carries 2 unused bits.
_NONCANONICAL = _ROOT64[:-2] + _ALPHABET[_ALPHABET.index(_ROOT64[-2]) ^ 1] + "="
_URLSAFE = base64.urlsafe_b64encode(b"\xff" * 32).decode()


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(f"o\n042\n{_ROOT64}\n", id="leading zero"),
        pytest.param(f"o\n00\n{_ROOT64}\n", id="zero with a leading zero"),
        pytest.param(f"o\n+42\n{_ROOT64}\n", id="plus sign"),
        pytest.param(f"o\n-42\n{_ROOT64}\n", id="minus sign"),
        pytest.param(f"o\n42 \n{_ROOT64}\n", id="trailing space after the size"),
        pytest.param(f"o\n 42\n{_ROOT64}\n", id="leading space before the size"),
        pytest.param(f"o\n4_2\n{_ROOT64}\n", id="underscore"),
        pytest.param(f"o\n42.0\n{_ROOT64}\n", id="decimal point"),
        pytest.param(f"o\n0x2a\n{_ROOT64}\n", id="hexadecimal"),
        pytest.param(f"o\n\u0664\u0662\n{_ROOT64}\n", id="non-ASCII digits"),
        pytest.param(f"o\n\n{_ROOT64}\n", id="empty size"),
        pytest.param(f"o\n42\n{_ROOT64.rstrip('=')}\n", id="missing padding"),
        pytest.param(f"o\n42\n{base64.b64encode(ROOT[:31]).decode()}\n", id="31-byte hash"),
        pytest.param(f"o\n42\n{base64.b64encode(ROOT + b'x').decode()}\n", id="33-byte hash"),
        pytest.param(f"o\n42\n{base64.b64encode(ROOT * 2).decode()}\n", id="64-byte hash"),
        pytest.param(f"o\n42\n{ROOT.hex()}\n", id="hex hash"),
        pytest.param(f"o\n42\n{_URLSAFE}\n", id="url-safe"),
        pytest.param(f"o\n42\n{_ROOT64} \n", id="trailing space after the hash"),
        pytest.param(f"o\n42\n{_NONCANONICAL}\n", id="non-canonical base64"),
        pytest.param(f"\n42\n{_ROOT64}\n", id="empty origin"),
        pytest.param(f"o \n42\n{_ROOT64}\n", id="trailing space after the origin"),
        pytest.param(f" o\n42\n{_ROOT64}\n", id="leading space before the origin"),
        pytest.param(f"o\r\n42\r\n{_ROOT64}\r\n", id="CRLF line ends"),
        pytest.param(f"o\n42\r\n{_ROOT64}\n", id="one CR"),
        pytest.param(f"o\n42\n{_ROOT64}", id="no final newline"),
        pytest.param("o\n42\n", id="no root hash"),
        pytest.param(f"o\n42\n{_ROOT64}\n\n", id="empty extension line"),
        pytest.param(f"o\n42\n{_ROOT64}\n\text\n", id="tab in an extension"),
        pytest.param(f"o\n42\n{_ROOT64}\n\next\n", id="blank line before an extension"),
        pytest.param("", id="empty"),
    ],
)
def test_malformed_checkpoints_are_refused(text):
    with pytest.raises(CheckpointError):
        notes.parse_checkpoint(text)


def test_the_non_canonical_root_really_decodes_to_the_same_bytes():
    assert _NONCANONICAL != _ROOT64
    assert base64.b64decode(_NONCANONICAL) == ROOT


def test_a_checkpoint_origin_may_be_any_non_empty_line_when_read():
    """The spec only recommends a URL-like origin; readers must not assume it. Extension
    lines are opaque."""
    assert notes.parse_checkpoint(f"Some Log + Co\n1\n{_ROOT64}\n").origin == "Some Log + Co"
    assert notes.parse_checkpoint(f"o\n1\n{_ROOT64}\n ext \n").extensions == (" ext ",)


@pytest.mark.parametrize(
    "origin, size, root, extensions",
    [
        ("", 1, ROOT, ()),
        ("with space", 1, ROOT, ()),
        ("a+b", 1, ROOT, ()),
        ("o", -1, ROOT, ()),
        ("o", 2**63, ROOT, ()),
        ("o", True, ROOT, ()),
        ("o", "1", ROOT, ()),
        ("o", 1, ROOT[:31], ()),
        ("o", 1, _ROOT64, ()),
        ("o", 1, ROOT, ("",)),
        ("o", 1, ROOT, ("two\nlines",)),
        ("o", 1, ROOT, ("cr\r",)),
    ],
)
def test_bad_checkpoints_are_not_formatted(origin, size, root, extensions):
    with pytest.raises(CheckpointError):
        notes.format_checkpoint(origin, size, root, extensions)


# --- witness cosignatures ------------------------------------------------------------------


def test_a_cosignature_is_the_spec_signature_over_the_spec_message():
    line = notes.cosign(CHECKPOINT, W1, timestamp=T0)
    assert line.startswith("— witness.example/w1 ") and line.endswith("\n")
    raw = base64.b64decode(line.split(" ")[2])
    assert len(raw) == 4 + 8 + 64
    assert raw[:4] == W1.key_hash.to_bytes(4, "big")
    assert raw[4:12] == T0.to_bytes(8, "big")
    message = f"cosignature/v1\ntime {T0}\n{CHECKPOINT}".encode()
    W1.private_key.public_key().verify(raw[12:], message)  # raises if not
    assert notes.verify_cosignature(CHECKPOINT, line, W1.verifier) == T0


def test_a_cosigned_checkpoint_opens_with_its_log_and_witnesses():
    note = notes.append_signatures(
        notes.sign(CHECKPOINT, [LOG]),
        [
            notes.cosign(CHECKPOINT, W1, timestamp=T0),
            notes.cosign(CHECKPOINT, W2, timestamp=T0 + 5),
        ],
    )
    opened = notes.open_checkpoint(note, LOG.verifier, [W1.verifier, W2.verifier])
    assert opened.checkpoint == notes.Checkpoint("log.example/gongkai", 42, ROOT)
    assert opened.text == CHECKPOINT
    assert opened.cosignatures == (
        notes.Cosignature(W1.verifier, T0),
        notes.Cosignature(W2.verifier, T0 + 5),
    )
    only_w1 = notes.open_checkpoint(note, LOG.verifier, [W1.verifier])
    assert only_w1.cosignatures == (notes.Cosignature(W1.verifier, T0),)
    assert [s.name for s in only_w1.unverified] == [W2.name]
    plain = notes.open_note(note, [LOG.verifier, W2.verifier])  # the note-level API too
    assert plain.verified_by == (LOG.verifier, W2.verifier)


def test_cosignatures_cover_extension_lines():
    text = notes.format_checkpoint("log.example/gongkai", 42, ROOT, ["ext"])
    line = notes.cosign(text, W1, timestamp=T0)
    assert notes.verify_cosignature(text, line, W1.verifier) == T0
    with pytest.raises(InvalidSignatureError):
        notes.verify_cosignature(text.replace("ext", "exT"), line, W1.verifier)


def test_a_cosignature_with_an_altered_time_is_refused():
    line = notes.cosign(CHECKPOINT, W1, timestamp=T0)
    for index in (11, 4):  # the last and the first byte of the timestamp
        with pytest.raises(InvalidSignatureError):
            notes.verify_cosignature(CHECKPOINT, flip_signature(line, index), W1.verifier)


def test_a_cosignature_of_an_altered_checkpoint_is_refused():
    line = notes.cosign(CHECKPOINT, W1, timestamp=T0)
    for altered in (
        CHECKPOINT.replace("\n42\n", "\n43\n"),
        notes.format_checkpoint("log.example/gongkai", 42, hashlib.sha256(b"other").digest()),
        notes.format_checkpoint("log.example/forked", 42, ROOT),
    ):
        with pytest.raises(InvalidSignatureError):
            notes.verify_cosignature(altered, line, W1.verifier)
    note = notes.sign(altered, [LOG]) + line.encode()
    with pytest.raises(InvalidSignatureError):
        notes.open_checkpoint(note, LOG.verifier, [W1.verifier])


def test_a_cosignature_of_another_witness_is_refused():
    line = notes.cosign(CHECKPOINT, W2, timestamp=T0)
    with pytest.raises(CosignatureError, match=r"not by witness\.example/w1"):
        notes.verify_cosignature(CHECKPOINT, line, W1.verifier)
    same_name = witness(W1.name, 7)  # same name, other key: other key ID
    with pytest.raises(CosignatureError):
        notes.verify_cosignature(
            CHECKPOINT, notes.cosign(CHECKPOINT, same_name, timestamp=T0), W1.verifier
        )


def test_a_forged_cosignature_under_a_witness_name_and_id_is_refused():
    impostor = witness("impostor", 8)
    raw = base64.b64decode(notes.cosign(CHECKPOINT, impostor, timestamp=T0).split(" ")[2])
    forged = f"— {W1.name} {base64.b64encode(W1.key_hash.to_bytes(4, 'big') + raw[4:]).decode()}\n"
    with pytest.raises(InvalidSignatureError):
        notes.verify_cosignature(CHECKPOINT, forged, W1.verifier)
    note = notes.sign(CHECKPOINT, [LOG]) + forged.encode()
    with pytest.raises(InvalidSignatureError):
        notes.open_checkpoint(note, LOG.verifier, [W1.verifier])
    assert notes.open_checkpoint(note, LOG.verifier).unverified[0].name == W1.name


def test_a_cosignature_dated_after_now_is_refused_when_asked():
    line = notes.cosign(CHECKPOINT, W1, timestamp=T0 + 60)
    assert notes.verify_cosignature(CHECKPOINT, line, W1.verifier, not_after=T0 + 60) == T0 + 60
    with pytest.raises(CosignatureError, match="future"):
        notes.verify_cosignature(CHECKPOINT, line, W1.verifier, not_after=T0)
    note = notes.sign(CHECKPOINT, [LOG]) + line.encode()
    with pytest.raises(CosignatureError, match="future"):
        notes.open_checkpoint(note, LOG.verifier, [W1.verifier], not_after=T0)


def test_a_note_signature_is_not_a_cosignature():
    """The same Ed25519 key used as a log key and as a witness key has two key IDs, and
    neither signature passes for the other."""
    seed_log = notes.parse_signer(key_strings("dual", 5)[0])
    seed_witness = witness("dual", 5)
    assert seed_log.key_hash != seed_witness.key_hash
    note = notes.sign(CHECKPOINT, [seed_log])
    with pytest.raises(UnverifiedNoteError):
        notes.open_note(note, [seed_witness.verifier])  # other key ID: an unknown key
    signature = notes.split_note(note)[1][0].raw[4:]
    claimed = seed_witness.key_hash.to_bytes(4, "big") + signature
    as_witness = f"— dual {base64.b64encode(claimed).decode()}\n"
    with pytest.raises(CosignatureError, match="cosignature/v1"):
        notes.verify_cosignature(CHECKPOINT, as_witness, seed_witness.verifier)
    with pytest.raises(InvalidSignatureError):
        notes.open_note(CHECKPOINT + "\n" + as_witness, [seed_witness.verifier])


def test_the_checkpoint_must_be_signed_by_its_log():
    cosigned_only = CHECKPOINT + "\n" + notes.cosign(CHECKPOINT, W1, timestamp=T0)
    with pytest.raises(UnverifiedNoteError, match="log"):
        notes.open_checkpoint(cosigned_only, LOG.verifier, [W1.verifier])
    by_other = notes.sign(CHECKPOINT, [OTHER])
    with pytest.raises(UnverifiedNoteError, match="log"):
        notes.open_checkpoint(by_other, LOG.verifier)
    with pytest.raises(KeyFormatError):
        notes.open_checkpoint(cosigned_only, W1.verifier)  # a witness key is no log key
    with pytest.raises(KeyFormatError):
        notes.open_checkpoint(notes.sign(CHECKPOINT, [LOG]), LOG.verifier, [OTHER.verifier])


def test_a_signed_note_that_is_not_a_checkpoint_is_refused_as_one():
    note = notes.sign("just text\n", [LOG])
    with pytest.raises(CheckpointError):
        notes.open_checkpoint(note, LOG.verifier)


def test_cosign_refuses_what_it_cannot_vouch_for():
    with pytest.raises(NoteError, match="not a witness"):
        notes.cosign(CHECKPOINT, LOG, timestamp=T0)
    with pytest.raises(CheckpointError):
        notes.cosign("not\na checkpoint\n", W1, timestamp=T0)
    with pytest.raises(CosignatureError):
        notes.cosign(CHECKPOINT, W1, timestamp=-1)
    with pytest.raises(CosignatureError):
        notes.cosign(CHECKPOINT, W1, timestamp=2**63)
    assert (
        notes.verify_cosignature(
            CHECKPOINT, notes.cosign(CHECKPOINT, W1, timestamp=2**63 - 1), W1.verifier
        )
        == 2**63 - 1
    )


def test_cosign_dates_with_the_clock_when_no_time_is_given(time_machine):
    time_machine.move_to("2025-01-02T03:04:05Z", tick=False)
    line = notes.cosign(CHECKPOINT, W1)
    assert notes.verify_cosignature(CHECKPOINT, line, W1.verifier) == 1735787045


_COSIGNATURE = notes.cosign(CHECKPOINT, W1, timestamp=T0)
_COSIGNED = base64.b64decode(_COSIGNATURE.split(" ")[2])
_BEYOND = _COSIGNED[:4] + bytes([0x80]) + _COSIGNED[5:]


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("", id="empty"),
        pytest.param(_COSIGNATURE.rstrip("\n"), id="no newline"),
        pytest.param(f"— {W1.name} !!!!\n", id="not base64"),
        pytest.param(_COSIGNATURE + _COSIGNATURE, id="two lines"),
        pytest.param(_COSIGNATURE.replace("\n", "\r\n"), id="carriage return"),
        pytest.param(_COSIGNATURE.replace("— ", "- "), id="hyphen"),
        pytest.param(f"— {W1.name} {base64.b64encode(_COSIGNED[:-1]).decode()}\n", id="short"),
        pytest.param(f"— {W1.name} {base64.b64encode(_BEYOND).decode()}\n", id="time > 2^63-1"),
    ],
)
def test_malformed_cosignature_lines_are_refused(line):
    with pytest.raises(NoteError):
        notes.verify_cosignature(CHECKPOINT, line, W1.verifier)


def test_verify_cosignature_needs_a_witness_key():
    line = notes.cosign(CHECKPOINT, W1, timestamp=T0)
    with pytest.raises(CosignatureError, match="not a witness"):
        notes.verify_cosignature(CHECKPOINT, line, LOG.verifier)
