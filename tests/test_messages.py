"""Every error code the program can raise has a text in Vietnamese and in English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from repository.i18n import Translator, codes, placeholders, template

ROOT = Path(__file__).resolve().parents[1]
CODE = re.compile(r"""(?:\bcode\s*=\s*|"code":\s*)"([a-z0-9_]+(?:\.[a-z0-9_]+)+)\"""")


def source_codes() -> set[str]:
    found: set[str] = set()
    for package in ("preservation", "repository", "workflows"):
        for path in (ROOT / package).rglob("*.py"):
            found.update(CODE.findall(path.read_text(encoding="utf-8")))
    return found


def test_codes_are_found() -> None:
    assert {
        "unpack.path_traversal",
        "bag.checksum_mismatch",
        "virus.infected",
        "ingest.duplicate",
    } <= source_codes()


@pytest.mark.parametrize("language", ["vi", "en"])
def test_every_code_has_a_text(language: str) -> None:
    missing = sorted(source_codes() - codes(language))
    assert missing == []


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    assert codes("vi") == codes("en")
    for code in codes("vi"):
        # the templates as written: rendering them without params would raise in tests (strict)
        assert placeholders(template(code, "vi") or "") == placeholders(template(code, "en") or ""), code


def test_vietnamese_is_the_default_and_english_the_fallback() -> None:
    assert Translator().language == "vi"
    assert Translator("vi").text("label.error") == "Lỗi"
    assert Translator("en").text("no.such.code", default="fallback") == "fallback"
