"""Both catalogues complete: every translatable string of the code is in them, translated."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "gongkai" / "locale"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


def catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_every_entry_is_translated_and_none_is_fuzzy(language: str):
    po = catalogue(language)
    assert len(po) > 100
    assert not po.untranslated_entries(), [e.msgid for e in po.untranslated_entries()][:10]
    assert not po.fuzzy_entries(), [e.msgid for e in po.fuzzy_entries()][:10]


@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_translations_keep_their_placeholders(language: str):
    for entry in catalogue(language):
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        for text in translations:
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(entry.msgid)), (
                entry.msgid
            )


def test_chinese_catalogue_really_is_chinese():
    han = re.compile(r"[\u4e00-\u9fff]")
    po = catalogue("zh_Hans")
    chinese = [e for e in po if han.search(e.msgstr or e.msgstr_plural.get(0, ""))]
    assert len(chinese) / len(po) > 0.9


def test_catalogues_hold_every_string_in_the_code(tmp_path: Path):
    """makemessages on a copy of the code adds no msgid that the catalogue lacks."""
    if not shutil.which("xgettext"):
        pytest.skip("GNU gettext (xgettext) is not installed; .ci/run installs it")
    for part in ("gongkai", "config", "manage.py"):
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(
                source, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__", "*.mo")
            )
        else:
            shutil.copy(source, tmp_path / part)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        env={
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "PATH": "/usr/bin:/bin",
            "GONGKAI_VAR_DIR": str(tmp_path / "var"),
        },
    )
    fresh = polib.pofile(str(tmp_path / "gongkai/locale/zh_Hans/LC_MESSAGES/django.po"))
    known = {e.msgid for e in catalogue("zh_Hans")}
    missing = sorted({e.msgid for e in fresh} - known)
    assert not missing, f"strings missing from the catalogue: {missing[:20]}"


def test_translation_functions_are_only_aliased_as_underscore():
    """makemessages finds _(), gettext(), gettext_lazy() … but not other aliases, whose
    strings would silently stay English."""
    alias = re.compile(r"import\s+(?:gettext|gettext_lazy|ngettext|pgettext)\w*\s+as\s+(\w+)")
    offenders = [
        f"{path.relative_to(ROOT)}: as {name}"
        for path in (ROOT / "gongkai").rglob("*.py")
        for name in alias.findall(path.read_text(encoding="utf-8"))
        if name != "_"
    ]
    assert not offenders
