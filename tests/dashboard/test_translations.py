"""The Simplified Chinese catalogue is complete, not fuzzy, and compiled."""
from __future__ import annotations

import ast
import gettext
from pathlib import Path
from typing import Any

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES"


def po_entries() -> list[dict[str, Any]]:
    """The .po file's entries as {"flags": [...], "msgid": ..., "msgstr": ... / "msgstr[0]": ...}."""
    entries = []
    for block in (LOCALE / "django.po").read_text(encoding="utf-8").strip().split("\n\n"):
        entry: dict[str, Any] = {"flags": []}
        key = ""
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] = [f.strip() for f in line[2:].split(",")]
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                entry[key] = str(entry[key]) + ast.literal_eval(line)
            else:
                key, _, value = line.partition(" ")
                entry[key] = ast.literal_eval(value)
        if "msgid" in entry:
            entries.append(entry)
    return entries


def test_every_message_is_translated_and_none_is_fuzzy():
    entries = [e for e in po_entries() if e["msgid"]]
    assert len(entries) > 100
    untranslated = [e["msgid"] for e in entries if not (e.get("msgstr") or e.get("msgstr[0]"))]
    fuzzy = [e["msgid"] for e in po_entries() if "fuzzy" in e["flags"]]
    assert untranslated == []
    assert fuzzy == []


def test_the_compiled_catalogue_has_every_message():
    with open(LOCALE / "django.mo", "rb") as f:
        compiled = gettext.GNUTranslations(f)
    for entry in po_entries():
        if not entry["msgid"]:
            continue
        if "msgid_plural" in entry:
            assert compiled.ngettext(entry["msgid"], entry["msgid_plural"], 1) == entry["msgstr[0]"]
        else:
            assert compiled.gettext(entry["msgid"]) == entry["msgstr"], entry["msgid"]


def test_the_shared_glossary_is_used():
    glossary = {
        "Imports": "导入", "New import": "新建导入", "Products": "商品", "Events": "事件", "Shoppers": "顾客",
        "Overview": "概览", "Catalog": "目录", "Log in": "登录", "Log out": "退出登录",
    }
    translations = {e["msgid"]: e.get("msgstr") for e in po_entries()}
    for english, chinese in glossary.items():
        assert translations[english] == chinese
