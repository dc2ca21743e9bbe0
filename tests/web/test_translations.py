"""Every UI string is translated into Chinese, and the compiled catalogue is current."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import casecenter

LOCALE = Path(casecenter.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES"


def po_entries() -> dict[str, str]:
    entries = {}
    for block in (LOCALE / "django.po").read_text(encoding="utf-8").split("\n\n"):
        msgid = re.search(r'^msgid "(.*)"$', block, re.M)
        if not msgid or not msgid.group(1):
            continue
        assert "#, fuzzy" not in block, f"fuzzy translation: {msgid.group(1)}"
        msgstr = re.search(r'^msgstr(?:\[0\])? "(.*)"$', block, re.M)
        entries[msgid.group(1)] = msgstr.group(1) if msgstr else ""
    return entries


def test_every_string_has_a_chinese_translation():
    untranslated = [k for k, v in po_entries().items() if not v]
    assert untranslated == []


def test_compiled_catalogue_matches_the_source():
    with open(LOCALE / "django.mo", "rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    for msgid, msgstr in po_entries().items():
        if "\\" in msgid or "\\" in msgstr:
            continue  # escapes differ between the two forms; plain strings suffice
        assert compiled.gettext(msgid) == msgstr, f"recompile the catalogue: {msgid}"
