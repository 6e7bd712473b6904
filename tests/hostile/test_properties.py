"""Properties of the name rules and of the TT 05 element validators, over generated inputs
(hypothesis): what the corpus checks by example, checked for every input of a shape.

Names: a component is refused with one of the name codes or accepted, and an accepted one is
storable everywhere (no control character, at most 255 bytes, a name Windows can create); every
submitted name has a UTF-8 stored form; NFC/NFD and upper/lower-case twins are always refused.
TT 05: the checker never raises, and each rule fires exactly when its condition holds.
"""

from __future__ import annotations

import calendar
import os
import string
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from preservation.errors import UnsafePackageError
from preservation.names import (
    NAME_MAX_BYTES,
    WINDOWS_FORBIDDEN,
    WINDOWS_RESERVED,
    check_component,
    fold,
    nfc,
    readable,
    windows_problem,
)
from preservation.safepath import SafeWriter, UnpackLimits, split_name
from preservation.tt05.ead import ParsedDescription
from preservation.tt05.ead_check import check_description
from preservation.tt05.model import Description
from preservation.tt05.tables import ElementType, Variant, shipped_tables
from tests.tt05 import valid_values

EXAMPLES = int(os.environ.get("KHOLUU_HYPOTHESIS_EXAMPLES", "50"))
"""Examples per property: few in the fast suite, thousands in ``make soak``."""
FAST = settings(
    max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
NAME_CODES = {
    "unpack.bad_component",
    "unpack.control_character",
    "unpack.component_too_long",
    "unpack.windows_name",
}
VIETNAMESE = "ăâđêôơưĂÂĐÊÔƠƯàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"
name_text = st.text(
    alphabet=st.sampled_from(string.ascii_letters + string.digits + VIETNAMESE + " -_.()"),
    min_size=1,
    max_size=40,
)

# ------------------------------------------------------------------------------------------ names


@FAST
@given(st.binary(min_size=0, max_size=300))
def test_a_component_is_refused_with_a_name_code_or_is_storable_everywhere(raw: bytes) -> None:
    try:
        check_component(raw, where="x")
    except UnsafePackageError as exc:
        assert exc.code in NAME_CODES
        return
    text = readable(raw)
    assert len(raw) <= NAME_MAX_BYTES
    assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in text)
    assert not (set(text) & WINDOWS_FORBIDDEN)
    assert not text.endswith((".", " "))
    assert text.split(".", 1)[0].rstrip(" ").upper() not in WINDOWS_RESERVED
    assert raw not in (b".", b"..")


@FAST
@given(st.binary(max_size=200))
def test_every_name_has_a_utf8_stored_form_equal_to_a_utf8_name(raw: bytes) -> None:
    text = readable(raw)
    text.encode("utf-8")  # never a lone surrogate: it goes into XML, JSON and the OCFL inventory
    try:
        assert text == raw.decode("utf-8")
    except UnicodeDecodeError:
        assert "%" in text


@FAST
@given(st.lists(st.sampled_from([b"a", b"..", b".", b"b\\..", b"", b"c"]), min_size=1, max_size=6))
def test_no_accepted_path_climbs(parts: list[bytes]) -> None:
    raw = b"/".join(parts)
    try:
        kept = split_name(raw, where="x")
    except UnsafePackageError as exc:
        assert exc.code in {"unpack.path_traversal", "unpack.absolute_path", *NAME_CODES}
        assert b".." in raw or raw.startswith(b"/")
        return
    assert b".." not in kept and all(p not in (b"", b".") for p in kept)


@FAST
@given(st.integers(min_value=1, max_value=400), st.sampled_from(["a", "ế", "𝔸"]))
def test_length_is_counted_in_bytes(count: int, char: str) -> None:
    raw = (char * count).encode("utf-8")
    if len(raw) > NAME_MAX_BYTES:
        with pytest.raises(UnsafePackageError) as refused:
            check_component(raw, where="x")
        assert refused.value.code == "unpack.component_too_long"
    else:
        check_component(raw, where="x")


@FAST
@given(
    st.sampled_from(sorted(WINDOWS_RESERVED)),
    st.sampled_from(["", ".txt", ".tar.gz", " .pdf"]),
    st.booleans(),
)
def test_windows_reserved_names_in_any_case_and_with_any_extension(
    device: str, ext: str, lower: bool
) -> None:
    name = (device.lower() if lower else device) + ext
    assert windows_problem(name) == "reserved device name"


@FAST
@given(name_text)
def test_nfc_and_nfd_twins_are_always_refused(name: str) -> None:
    composed, decomposed = nfc(name), unicodedata.normalize("NFD", name)
    if composed == decomposed or windows_problem(composed) is not None:
        return
    writer = _writer()
    writer.claim(composed.encode(), "file")
    with pytest.raises(UnsafePackageError) as refused:
        writer.claim(decomposed.encode(), "file")
    assert refused.value.code == "unpack.normalization_collision"


@FAST
@given(name_text)
def test_case_twins_are_always_refused(name: str) -> None:
    other = name.swapcase()
    if (
        nfc(other) == nfc(name)
        or windows_problem(name) is not None
        or nfc(other).casefold() != nfc(name).casefold()
    ):
        return
    writer = _writer()
    writer.claim(nfc(name).encode(), "file")
    with pytest.raises(UnsafePackageError) as refused:
        writer.claim(nfc(other).encode(), "file")
    assert refused.value.code in ("unpack.case_collision", "unpack.normalization_collision")


@FAST
@given(st.text(max_size=30))
def test_fold_ignores_normalization_case_and_diacritics(text: str) -> None:
    assert (
        fold(text) == fold(unicodedata.normalize("NFD", text)) == fold(nfc(text).upper()) == fold(fold(text))
    )


_WRITER_ROOT: list[Path] = []


def _writer() -> SafeWriter:
    """A writer whose names are only claimed (``claim`` writes nothing to disk)."""
    return SafeWriter(root=_WRITER_ROOT[0], limits=UnpackLimits())


@pytest.fixture(autouse=True, scope="module")
def _writer_root(tmp_path_factory: pytest.TempPathFactory) -> None:
    _WRITER_ROOT[:] = [tmp_path_factory.mktemp("names")]


# ------------------------------------------------------------------------------------ TT 05 rules

TABLES = shipped_tables()
HOSO = TABLES.table(Variant.HOSO_SIP)
DOC = TABLES.table(Variant.DOC_SIP)


def _check(variant: Variant, **values: str) -> dict[str, set[str]]:
    """The codes each element gets when ``values`` replace valid ones."""
    all_values = valid_values(variant, TABLES, **values)
    parsed = ParsedDescription(description=Description(variant, "EAD.xml", all_values))
    out: dict[str, set[str]] = {}
    for finding in check_description(parsed, TABLES, intake=False):
        out.setdefault(finding.params["element"], set()).add(finding.code)
    return out


def _elements(table: object, kind: ElementType) -> list[str]:
    return [e.name for e in table.elements if e.type is kind]  # type: ignore[attr-defined]


@FAST
@given(st.sampled_from(_elements(HOSO, ElementType.STRING)), st.text(min_size=1, max_size=2100))
def test_string_elements_are_too_long_exactly_past_their_maximum(name: str, value: str) -> None:
    value = value.strip()
    if not value:
        return
    codes = _check(Variant.HOSO_SIP, **{name: value}).get(name, set())
    element = HOSO.element(name)
    assert element is not None
    too_long = element.max is not None and len(nfc(value)) > element.max
    assert ("tt05.too_long" in codes) == too_long


@FAST
@given(
    st.sampled_from(_elements(DOC, ElementType.NUMBER)),
    st.one_of(st.integers(0, 9999).map(str), st.text(min_size=1, max_size=5)),
)
def test_numbers_are_ascii_digits_only(name: str, value: str) -> None:
    value = value.strip()
    if not value:
        return
    codes = _check(Variant.DOC_SIP, **{name: value}).get(name, set())
    assert ("tt05.not_number" in codes) == (not (value.isascii() and value.isdigit()))


@FAST
@given(st.sampled_from(_elements(DOC, ElementType.BOOLEAN)), st.text(min_size=1, max_size=3))
def test_booleans_are_0_or_1(name: str, value: str) -> None:
    value = value.strip()
    if not value:
        return
    codes = _check(Variant.DOC_SIP, **{name: value, "riskRecoveryStatus": "01"}).get(name, set())
    assert ("tt05.not_boolean" in codes) == (value not in ("0", "1"))


@FAST
@given(st.dates(min_value=date(1800, 1, 1), max_value=date(2100, 12, 31)))
def test_every_real_date_is_accepted_in_the_tt05_form(day: date) -> None:
    codes = _check(Variant.DOC_SIP, issuedDate=day.strftime("%d/%m/%Y")).get("issuedDate", set())
    assert "tt05.bad_date" not in codes


@FAST
@given(st.integers(1900, 2100), st.integers(1, 12), st.integers(1, 40))
def test_impossible_days_are_bad_dates(year: int, month: int, day: int) -> None:
    real = day <= calendar.monthrange(year, month)[1]
    codes = _check(Variant.DOC_SIP, issuedDate=f"{day:02}/{month:02}/{year}").get("issuedDate", set())
    assert ("tt05.bad_date" in codes) == (not real)


@FAST
@given(st.sampled_from(_elements(HOSO, ElementType.CODE)), st.text(min_size=1, max_size=6))
def test_codes_outside_their_list_are_refused(name: str, value: str) -> None:
    value = value.strip()
    element = HOSO.element(name)
    assert element is not None and element.codelist is not None
    allowed = TABLES.codelist(element.codelist).values
    if not value or element.multi or (element.max is not None and len(value) > element.max):
        return
    codes = _check(Variant.HOSO_SIP, **{name: value}).get(name, set())
    assert ("tt05.bad_code" in codes) == (value not in allowed)


@FAST
@given(st.dictionaries(st.sampled_from(HOSO.names), st.text(max_size=50), max_size=len(HOSO.names)))
def test_the_checker_never_raises(values: dict[str, str]) -> None:
    parsed = ParsedDescription(description=Description(Variant.HOSO_SIP, "EAD.xml", values))
    for finding in check_description(parsed, TABLES, intake=True):
        assert finding.code.startswith("tt05.") and finding.params["file"] == "EAD.xml"
