"""TT 05/2025 description files: every rule of every table row is enforced and named.

Descriptions are built from the element tables themselves (config/tt05/elements.toml), so a row
added there is covered here without editing this file.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from preservation.errors import InvalidPackageError
from preservation.findings import Finding, Severity
from preservation.tt05.ead import (
    ROOT,
    DescriptionWriteError,
    ParsedDescription,
    description_date,
    parse_description,
    schema_path,
    split_codes,
    validate_xsd,
    write_description,
)
from preservation.tt05.ead_check import check_description
from preservation.tt05.model import Description
from preservation.tt05.tables import Element, ElementType, Requirement, Tables, Variant, load_tables
from preservation.tt05.xsdgen import (
    OAI_SCHEMA,
    generate_all,
    generate_oai_xsd,
    generate_xsd,
    main,
    write_all,
)
from repository.i18n import Translator, codes, template

TABLES = load_tables()
TITLE = "Hồ sơ về việc xây dựng trụ sở Ủy ban nhân dân tỉnh An Giang năm 2024"
TEXT = "Ủy ban nhân dân tỉnh An Giang, Sở Nội vụ, Trung tâm Lưu trữ lịch sử tỉnh"
#: The tables the brief asks to cover row by row; the other variants are covered by the round trip.
RULE_VARIANTS = (Variant.HOSO_SIP, Variant.DOC_SIP)


# ------------------------------------------------------------------------------------ builders


def where(variant: Variant) -> str:
    return "metadata/descriptive/" + TABLES.table(variant).file.format(name="cong-van-45")


def valid_value(element: Element, tables: Tables = TABLES) -> str:
    """A correct value for any row, derived from the row's own rule."""
    if element.type is ElementType.STRING:
        base = TITLE if element.name in ("title", "subject", "imageTitle", "movieTitle") else TEXT
        return base[: element.max].strip() if element.max else base
    if element.type is ElementType.NUMBER:
        return "12"
    if element.type is ElementType.BOOLEAN:
        return "1"
    if element.type is ElementType.DATE:
        if element.name == "startDate":
            return "01/01/2024"
        if element.name == "endDate":
            return "31/12/2024"
        return "05/03/2024"
    assert element.codelist is not None
    codes_ = tables.codelist(element.codelist).values
    if element.intake:
        return element.intake[0]
    return f"{codes_[0]};{codes_[-1]}" if element.multi else codes_[0]


def full_values(variant: Variant) -> dict[str, str]:
    return {e.name: valid_value(e) for e in TABLES.table(variant).elements}


def parsed(variant: Variant, values: dict[str, str]) -> ParsedDescription:
    return ParsedDescription(Description(variant=variant, path=where(variant), values=values))


def check(variant: Variant, values: dict[str, str], *, intake: bool = False) -> list[Finding]:
    return check_description(parsed(variant, values), TABLES, intake=intake)


def named(findings: list[Finding], code: str, element: str) -> list[Finding]:
    return [f for f in findings if f.code == code and f.params["element"] == element]


def rows_where(predicate: Callable[[Element], bool]) -> list[Any]:  # pytest.param objects
    return [
        pytest.param(variant, element, id=f"{variant.value}-{element.name}")
        for variant in RULE_VARIANTS
        for element in TABLES.table(variant).elements
        if predicate(element)
    ]


def xsd_rejects(path: Path, variant: Variant, element: str) -> bool:
    """The generated XSD rejects the file because of that element (not for another reason)."""
    findings = validate_xsd(path, variant)
    return bool(findings) and all(f"'{element}'" in f.params["problem"] for f in findings)


def write_xml(path: Path, body: str, declaration: bool = True) -> Path:
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' if declaration else ""
    path.write_text(head + body, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------- round trip


@pytest.mark.parametrize("variant", list(Variant), ids=lambda v: v.value)
def test_valid_description_round_trips_and_passes_its_schema(variant: Variant, tmp_path: Path) -> None:
    values = full_values(variant)
    path = tmp_path / "EAD.xml"
    write_description(Description(variant, where(variant), values), TABLES, path)

    result = parse_description(path, variant, where(variant), tables=TABLES)

    assert dict(result.description.values) == values
    assert (result.unknown, result.repeated, result.empty) == ((), (), ())
    assert check_description(result, TABLES, intake=True) == []
    assert validate_xsd(path, variant, where=where(variant)) == []


@pytest.mark.parametrize("variant", list(Variant), ids=lambda v: v.value)
def test_only_mandatory_elements_is_enough(variant: Variant, tmp_path: Path) -> None:
    table = TABLES.table(variant)
    values = {
        e.name: "0" if e.type is ElementType.BOOLEAN else valid_value(e)
        for e in table.elements
        if e.required is Requirement.MANDATORY
    }
    path = tmp_path / "EAD.xml"
    write_description(Description(variant, where(variant), values), TABLES, path)
    assert check_description(parse_description(path, variant, where(variant)), TABLES) == []
    assert validate_xsd(path, variant) == []


def test_written_file_is_flat_utf8_in_table_order_without_empty_elements(tmp_path: Path) -> None:
    values = full_values(Variant.HOSO_SIP)
    values["keyword"] = "   "
    values["description"] = unicodedata.normalize("NFD", "  Người lập hồ sơ: Nguyễn Thị Hằng ")
    shuffled = dict(reversed(list(values.items())))
    path = tmp_path / "EAD.xml"
    write_description(Description(Variant.HOSO_SIP, "EAD.xml", shuffled), TABLES, path)

    raw = path.read_bytes()
    assert raw.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<ead>\n  <fileCode>")
    text = raw.decode("utf-8")
    assert "<keyword" not in text
    assert "<description>Người lập hồ sơ: Nguyễn Thị Hằng</description>" in text
    assert unicodedata.is_normalized("NFC", text)
    expected = [e.name for e in TABLES.table(Variant.HOSO_SIP).elements if e.name != "keyword"]
    found = [line.strip()[1:].split(">")[0] for line in text.splitlines()[2:-1]]
    assert found == expected
    assert ROOT == "ead"


def test_writer_refuses_what_it_cannot_write_faithfully(tmp_path: Path) -> None:
    values = full_values(Variant.DOC_SIP) | {"fileCode": "X"}  # a dossier element in a document
    with pytest.raises(DescriptionWriteError) as err:
        write_description(Description(Variant.DOC_SIP, "EAD_doc_1.xml", values), TABLES, tmp_path / "a.xml")
    assert err.value.code == "tt05.write_unknown_element"
    assert err.value.params["elements"] == ("fileCode",)

    values = full_values(Variant.DOC_SIP) | {"subject": "Trích yếu\x0bcó ký tự điều khiển"}
    with pytest.raises(DescriptionWriteError) as err:
        write_description(Description(Variant.DOC_SIP, "EAD_doc_1.xml", values), TABLES, tmp_path / "b.xml")
    assert err.value.code == "tt05.write_bad_text"
    assert err.value.params["element"] == "subject"


# ----------------------------------------------------------------------------------- reading


def test_nfd_text_is_stored_nfc(tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", TITLE)
    assert nfd != TITLE
    path = write_xml(tmp_path / "EAD.xml", f"<ead><title>\n   {nfd}  </title></ead>")
    result = parse_description(path, Variant.HOSO_SIP, "EAD.xml")
    assert result.description.values["title"] == TITLE


def test_any_root_name_and_namespace_is_read(tmp_path: Path) -> None:
    path = write_xml(
        tmp_path / "EAD.xml",
        '<hs:HoSo xmlns:hs="urn:vn:gov:luutru:tt05" xmlns:x="urn:other">'
        "<!-- comment --><hs:title>" + TITLE + "</hs:title><?pi ignored?>"
        '<x:mode code="ignored">01</x:mode><hs:bogus>1</hs:bogus><hs:keyword/></hs:HoSo>',
    )
    result = parse_description(path, Variant.HOSO_SIP, "EAD.xml")
    assert dict(result.description.values) == {"title": TITLE, "mode": "01"}
    assert result.unknown == ("bogus",)
    assert result.empty == ("keyword",)


def test_repeated_element_keeps_the_first_value_and_is_an_error(tmp_path: Path) -> None:
    body = "".join(f"<{k}>{v}</{k}>" for k, v in full_values(Variant.HOSO_SIP).items())
    path = write_xml(tmp_path / "EAD.xml", f"<ead>{body}<title>Tiêu đề thứ hai</title><x/><x/></ead>")
    result = parse_description(path, Variant.HOSO_SIP, "EAD.xml")
    assert result.description.values["title"] == TITLE
    assert result.repeated == ("title", "x")
    findings = check_description(result, TABLES)
    assert [(f.code, f.params["element"], f.severity) for f in findings] == [
        ("tt05.repeated_element", "title", Severity.ERROR),
        ("tt05.unknown_element", "x", Severity.WARNING),
    ]


@pytest.mark.parametrize(
    "body",
    [
        '<!DOCTYPE ead [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><ead><title>&c;</title></ead>',
        '<!DOCTYPE ead [<!ENTITY x SYSTEM "file:///etc/passwd">]><ead><title>&x;</title></ead>',
        '<!DOCTYPE ead SYSTEM "http://example.invalid/ead.dtd"><ead><title>x</title></ead>',
    ],
    ids=["entity-bomb", "external-entity", "external-dtd"],
)
def test_dtds_and_entities_are_refused(body: str, tmp_path: Path) -> None:
    path = write_xml(tmp_path / "EAD.xml", body)
    with pytest.raises(InvalidPackageError) as err:
        parse_description(path, Variant.HOSO_SIP, "metadata/descriptive/EAD.xml")
    assert err.value.code == "tt05.doctype"
    assert err.value.path == "metadata/descriptive/EAD.xml"


@pytest.mark.parametrize(
    ("body", "code", "element"),
    [
        ("<ead><title>x</title>", "tt05.not_xml", None),
        ("<ead><title>x</titel></ead>", "tt05.not_xml", None),
        ("<ead><title>x<b>đậm</b></title></ead>", "tt05.not_flat", "title"),
        ("<ead>văn bản<title>x</title></ead>", "tt05.not_flat", "ead"),
        ("<ead><title>x</title>văn bản</ead>", "tt05.not_flat", "ead"),
    ],
    ids=["truncated", "mismatched", "nested", "text-in-root", "text-between"],
)
def test_broken_files_are_refused_with_a_named_problem(
    body: str, code: str, element: str | None, tmp_path: Path
) -> None:
    path = write_xml(tmp_path / "EAD.xml", body)
    with pytest.raises(InvalidPackageError) as err:
        parse_description(path, Variant.HOSO_SIP, "metadata/descriptive/EAD.xml")
    assert err.value.code == code
    assert err.value.params["file"] == "metadata/descriptive/EAD.xml"
    assert err.value.params["problem"]
    if element is not None:
        assert err.value.params["element"] == element


def test_missing_file_is_not_xml(tmp_path: Path) -> None:
    with pytest.raises(InvalidPackageError) as err:
        parse_description(tmp_path / "absent.xml", Variant.HOSO_SIP, "EAD.xml")
    assert err.value.code == "tt05.not_xml"


# ------------------------------------------------------------------------- rules, row by row


@pytest.mark.parametrize(("variant", "element"), rows_where(lambda e: e.required is Requirement.MANDATORY))
def test_mandatory_element_missing_or_empty(variant: Variant, element: Element, tmp_path: Path) -> None:
    values = full_values(variant)
    del values[element.name]
    findings = check(variant, values)
    assert [(f.code, f.params["element"]) for f in findings] == [("tt05.mandatory", element.name)]
    assert findings[0].where == f"{where(variant)}#{element.name}"

    body = "".join(f"<{k}>{v}</{k}>" for k, v in values.items()) + f"<{element.name}>  </{element.name}>"
    path = write_xml(tmp_path / "EAD.xml", f"<ead>{body}</ead>")
    result = parse_description(path, variant, where(variant))
    assert result.empty == (element.name,)
    assert named(check_description(result, TABLES), "tt05.mandatory", element.name)
    assert xsd_rejects(path, variant, element.name), "the XSD rejects an empty mandatory element too"


@pytest.mark.parametrize(("variant", "element"), rows_where(lambda e: e.required_if is not None))
def test_conditional_element_required_when_its_condition_holds(variant: Variant, element: Element) -> None:
    condition = element.required_if
    assert condition is not None
    other = TABLES.table(variant).element(condition.element)
    assert other is not None
    for trigger in condition.values:
        values = full_values(variant) | {condition.element: trigger}
        del values[element.name]
        findings = check(variant, values)
        assert [(f.code, f.params["element"]) for f in findings] == [("tt05.conditional", element.name)]
        params = findings[0].params
        assert params["condition"] == condition.element
        assert params["condition_values"] == condition.values
        assert params["condition_value"] == trigger
    # the condition does not hold: the element may be left out
    allowed = TABLES.codelist(other.codelist).values if other.codelist else ("0", "1")
    for value in [v for v in allowed if v not in condition.values]:
        values = full_values(variant) | {condition.element: value}
        del values[element.name]
        assert check(variant, values) == []


def test_conditions_the_brief_names_are_in_the_tables() -> None:
    conditions = {
        (v.value, e.name): (e.required_if.element, e.required_if.values)
        for v in RULE_VARIANTS
        for e in TABLES.table(v).elements
        if e.required_if is not None
    }
    assert conditions == {
        ("hoso_sip", "numberOfPaper"): ("confidenceLevel", ("02",)),
        ("hoso_sip", "paperFileCode"): ("confidenceLevel", ("02",)),
        ("hoso_sip", "riskRecoveryStatus"): ("riskRecovery", ("1",)),
        ("doc_sip", "riskRecoveryStatus"): ("riskRecovery", ("1",)),
        ("doc_sip", "process"): ("confidenceLevel", ("01", "03")),
    }


def too_long_value(element: Element) -> str:
    assert element.max is not None
    if element.type is ElementType.NUMBER:
        return "9" * (element.max + 1)
    if element.type is ElementType.CODE and element.multi:
        codes_ = [valid_value(element).split(";")[0]] * (element.max // 3 + 1)
        return ";".join(codes_)  # every code valid: only the length is wrong
    if element.type is ElementType.CODE:
        return "0" * (element.max + 1)
    return ("Ủy ban nhân dân tỉnh An Giang " * (element.max // 20 + 1))[: element.max] + "ữ"


LENGTH_ROWS = rows_where(
    lambda e: e.max is not None and e.type in (ElementType.STRING, ElementType.NUMBER, ElementType.CODE)
)


@pytest.mark.parametrize(("variant", "element"), LENGTH_ROWS)
def test_too_long(variant: Variant, element: Element, tmp_path: Path) -> None:
    assert element.max is not None
    value = too_long_value(element)
    findings = named(
        check(variant, full_values(variant) | {element.name: value}), "tt05.too_long", element.name
    )
    assert len(findings) == 1
    assert findings[0].params["max"] == element.max
    assert findings[0].params["length"] == len(value) > element.max

    path = tmp_path / "EAD.xml"
    write_description(
        Description(variant, where(variant), full_values(variant) | {element.name: value}), TABLES, path
    )
    assert xsd_rejects(path, variant, element.name), "the XSD rejects the same length violation"


@pytest.mark.parametrize(
    ("variant", "element"), rows_where(lambda e: e.type is ElementType.STRING and e.max is not None)
)
def test_length_is_counted_in_nfc_characters(variant: Variant, element: Element, tmp_path: Path) -> None:
    assert element.max is not None
    value = ("ữ" * element.max)[: element.max]
    body = f"<{element.name}>{unicodedata.normalize('NFD', value)}</{element.name}>"
    path = write_xml(tmp_path / "EAD.xml", f"<ead>{body}</ead>")
    result = parse_description(path, variant, where(variant))
    assert result.description.values[element.name] == value
    assert not named(check_description(result, TABLES), "tt05.too_long", element.name)


@pytest.mark.parametrize(("variant", "element"), rows_where(lambda e: e.type is ElementType.NUMBER))
@pytest.mark.parametrize("bad", ["12a", "-1", "1.5", "1 2", "١٢", "１２"])
def test_not_number(variant: Variant, element: Element, bad: str) -> None:
    findings = check(variant, full_values(variant) | {element.name: bad})
    assert [f.code for f in findings if f.params["element"] == element.name] == ["tt05.not_number"]


@pytest.mark.parametrize(("variant", "element"), rows_where(lambda e: e.type is ElementType.BOOLEAN))
@pytest.mark.parametrize("bad", ["2", "yes", "có", "true", "01"])
def test_not_boolean(variant: Variant, element: Element, bad: str) -> None:
    findings = named(
        check(variant, full_values(variant) | {element.name: bad}), "tt05.not_boolean", element.name
    )
    assert len(findings) == 1
    assert findings[0].params["allowed"] == ("0", "1")


@pytest.mark.parametrize(("variant", "element"), rows_where(lambda e: e.type is ElementType.DATE))
@pytest.mark.parametrize(
    "bad", ["31/02/2024", "29/02/2023", "00/01/2024", "05/13/2024", "2024-03-05", "5/3/2024"]
)
def test_bad_date(variant: Variant, element: Element, bad: str) -> None:
    findings = named(
        check(variant, full_values(variant) | {element.name: bad}), "tt05.bad_date", element.name
    )
    assert len(findings) == 1
    assert findings[0].params["formats"] == element.formats


@pytest.mark.parametrize(
    "variant", [v for v in Variant if any(e.type is ElementType.DATE for e in TABLES.table(v).elements)]
)
def test_date_precision_is_allowed_only_where_the_table_says(variant: Variant) -> None:
    for element in (e for e in TABLES.table(variant).elements if e.type is ElementType.DATE):
        for value, form in (("03/2024", "MM/YYYY"), ("2024", "YYYY"), ("29/02/2024", "DD/MM/YYYY")):
            values = full_values(variant) | {element.name: value}
            if element.name == "startDate":
                values["endDate"] = "31/12/2024"
            found = named(check(variant, values), "tt05.bad_date", element.name)
            assert bool(found) == (form not in element.formats), (element.name, value)


@pytest.mark.parametrize(
    ("start", "end", "wrong"),
    [
        ("01/01/2024", "31/12/2024", False),
        ("31/12/2024", "31/12/2024", False),
        ("01/01/2025", "31/12/2024", True),
        ("2024", "05/03/2024", False),  # the same year at the precision written
        ("03/2024", "15/03/2024", False),
        ("04/2024", "15/03/2024", True),
        ("2025", "12/2024", True),
    ],
)
def test_start_date_after_end_date(start: str, end: str, wrong: bool) -> None:
    findings = check(Variant.HOSO_AIP, full_values(Variant.HOSO_AIP) | {"startDate": start, "endDate": end})
    order = [f for f in findings if f.code == "tt05.date_order"]
    assert [f.params["element"] for f in order] == (["startDate"] if wrong else [])
    assert [f for f in findings if f.code != "tt05.date_order"] == []
    if wrong:
        assert order[0].params["other"] == "endDate"
        assert order[0].params["other_value"] == end


def test_a_bad_date_is_not_also_out_of_order() -> None:
    findings = check(Variant.HOSO_SIP, full_values(Variant.HOSO_SIP) | {"startDate": "2025"})
    assert [f.code for f in findings] == ["tt05.bad_date"]


CODE_ROWS = rows_where(lambda e: e.type is ElementType.CODE)


@pytest.mark.parametrize(("variant", "element"), CODE_ROWS)
def test_bad_code(variant: Variant, element: Element, tmp_path: Path) -> None:
    for bad in ("99", "1" if "1" not in TABLES.codelist(element.codelist or "").values else "x"):
        findings = named(
            check(variant, full_values(variant) | {element.name: bad}), "tt05.bad_code", element.name
        )
        assert len(findings) == 1
        assert findings[0].params["invalid"] == (bad,)
        assert findings[0].params["allowed"] == TABLES.codelist(element.codelist or "").values

        path = tmp_path / "EAD.xml"
        write_description(
            Description(variant, where(variant), full_values(variant) | {element.name: bad}), TABLES, path
        )
        assert xsd_rejects(path, variant, element.name), "the XSD rejects the same code"


@pytest.mark.parametrize(("variant", "element"), rows_where(lambda e: e.type is ElementType.CODE and e.multi))
def test_multi_code_elements_take_several_codes(variant: Variant, element: Element, tmp_path: Path) -> None:
    allowed = TABLES.codelist(element.codelist or "").values
    good = f"{allowed[0]}, {allowed[1]};{allowed[2]}"
    assert check(variant, full_values(variant) | {element.name: good}) == []
    path = tmp_path / "EAD.xml"
    write_description(
        Description(variant, where(variant), full_values(variant) | {element.name: good}), TABLES, path
    )
    assert validate_xsd(path, variant) == []
    for bad, invalid in (
        (f"{allowed[0]};99", ("99",)),
        (f"{allowed[0]},", ('""',)),
        (f"{allowed[0]} {allowed[1]}", (f"{allowed[0]} {allowed[1]}",)),
    ):
        findings = named(
            check(variant, full_values(variant) | {element.name: bad}), "tt05.bad_code", element.name
        )
        assert [f.params["invalid"] for f in findings] == [invalid], bad
        write_description(
            Description(variant, where(variant), full_values(variant) | {element.name: bad}), TABLES, path
        )
        assert xsd_rejects(path, variant, element.name), bad


@pytest.mark.parametrize(("variant", "element"), rows_where(lambda e: bool(e.intake)))
def test_intake_takes_only_permanent_records(variant: Variant, element: Element) -> None:
    assert element.name == "maintenance" and element.intake == ("01",)
    values = full_values(variant) | {element.name: "02"}
    assert check(variant, values, intake=False) == []
    findings = check(variant, values, intake=True)
    assert [(f.code, f.params["element"]) for f in findings] == [("tt05.intake_code", element.name)]
    assert findings[0].params["allowed"] == ("01",)
    assert findings[0].params["labels_vi"] == ("Vĩnh viễn",)
    # a code outside the list is a bad code, not also an intake problem
    assert [f.code for f in check(variant, values | {element.name: "99"}, intake=True)] == ["tt05.bad_code"]


def test_unknown_element_is_a_warning() -> None:
    result = ParsedDescription(
        Description(Variant.DOC_SIP, "EAD_doc_1.xml", full_values(Variant.DOC_SIP)), unknown=("ghiChu",)
    )
    findings = check_description(result, TABLES)
    assert [(f.code, f.severity, f.params["element"]) for f in findings] == [
        ("tt05.unknown_element", Severity.WARNING, "ghiChu")
    ]


def test_every_violation_is_reported_not_the_first() -> None:
    values = full_values(Variant.HOSO_SIP) | {
        "maintenance": "02",
        "totalDoc": "mười",
        "riskRecovery": "có",
        "startDate": "32/01/2024",
        "language": "01;12",
        "keyword": "k" * 101,
    }
    del values["title"]
    findings = check(Variant.HOSO_SIP, values, intake=True)
    assert [(f.code, f.params["element"]) for f in findings] == [
        ("tt05.mandatory", "title"),
        ("tt05.intake_code", "maintenance"),
        ("tt05.bad_code", "language"),
        ("tt05.bad_date", "startDate"),
        ("tt05.too_long", "keyword"),
        ("tt05.not_number", "totalDoc"),
        ("tt05.not_boolean", "riskRecovery"),
    ]


# --------------------------------------------------------------------------------- messages


def _all_findings() -> list[Finding]:
    values = full_values(Variant.HOSO_SIP) | {
        "maintenance": "02",
        "totalDoc": "x",
        "riskRecovery": "2",
        "startDate": "01/01/2025",
        "endDate": "31/12/2024",
        "language": "99",
        "keyword": "k" * 101,
        "confidenceLevel": "02",
    }
    del values["title"], values["paperFileCode"]
    bad_date = check(Variant.HOSO_SIP, full_values(Variant.HOSO_SIP) | {"endDate": "2024"})
    result = ParsedDescription(
        Description(Variant.HOSO_SIP, where(Variant.HOSO_SIP), values), unknown=("x",), repeated=("mode",)
    )
    return check_description(result, TABLES, intake=True) + bad_date


def test_findings_carry_the_element_labels_and_rule() -> None:
    findings = _all_findings()
    assert {f.code for f in findings} == {
        "tt05.mandatory",
        "tt05.conditional",
        "tt05.too_long",
        "tt05.not_number",
        "tt05.not_boolean",
        "tt05.bad_date",
        "tt05.date_order",
        "tt05.bad_code",
        "tt05.intake_code",
        "tt05.unknown_element",
        "tt05.repeated_element",
    }
    for f in findings:
        element = TABLES.table(Variant.HOSO_SIP).element(f.params["element"])
        assert f.params["file"] == where(Variant.HOSO_SIP)
        assert f.params["rule"] == f.code.removeprefix("tt05.")
        assert f.where == f"{where(Variant.HOSO_SIP)}#{f.params['element']}"
        if element is not None:
            assert (f.params["element_vi"], f.params["element_en"]) == (element.vi, element.en)


@pytest.mark.parametrize("language", ["vi", "en"])
def test_messages_name_file_element_and_rule(language: str) -> None:
    translator = Translator(language)
    for f in _all_findings():
        assert f.code in codes(language)
        text = translator.text(f.code, f.params)
        assert "{" not in text, text
        assert f.params["file"] in text and f.params["element"] in text
        if f.code != "tt05.unknown_element":
            assert f.params[f"element_{language}"] in text
    # the templates themselves: rendering one without its params raises in tests (strict messages)
    assert "bắt buộc" in (template("tt05.mandatory", "vi") or "")
    assert "mandatory" in (template("tt05.mandatory", "en") or "")


def test_every_tt05_code_in_the_modules_has_texts() -> None:
    source = "".join(
        (Path(__file__).resolve().parents[2] / "preservation" / "tt05" / name).read_text(encoding="utf-8")
        for name in ("ead.py", "ead_check.py", "xsdgen.py")
    )
    used = set(re.findall(r'code\s*=\s*"(tt05\.[a-z_]+)"', source))
    assert len(used) >= 15
    assert used <= codes("vi") and used <= codes("en")


# ------------------------------------------------------------------------------------ helpers


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("05/03/2020", (date(2020, 3, 5), date(2020, 3, 5))),
        ("03/2020", (date(2020, 3, 1), date(2020, 3, 31))),
        ("02/2024", (date(2024, 2, 1), date(2024, 2, 29))),
        ("2020", (date(2020, 1, 1), date(2020, 12, 31))),
        (" 2020 ", (date(2020, 1, 1), date(2020, 12, 31))),
        ("31/02/2020", None),
        ("13/2020", None),
        ("0000", None),
        ("5/3/2020", None),
        ("2020-03-05", None),
        ("", None),
        ("２０２０", None),
    ],
)
def test_description_date(value: str, expected: tuple[date, date] | None) -> None:
    assert description_date(value) == expected


def test_split_codes() -> None:
    assert split_codes("01, 02;05") == ["01", "02", "05"]
    assert split_codes(" 01 ; ;") == ["01"]
    assert split_codes("") == []


# ------------------------------------------------------------------------------------ schemas


@pytest.mark.parametrize("variant", list(Variant), ids=lambda v: v.value)
def test_shipped_schema_is_the_generated_one(variant: Variant) -> None:
    """Editing elements.toml without `python -m preservation.tt05.xsdgen --write` fails here."""
    assert schema_path(variant).read_bytes() == generate_xsd(TABLES.table(variant), TABLES)


def test_shipped_oai_schema_is_the_generated_one() -> None:
    assert OAI_SCHEMA.read_bytes() == generate_oai_xsd(TABLES)


def test_generation_is_deterministic_and_the_entry_point_checks(tmp_path: Path) -> None:
    assert generate_all(load_tables()) == generate_all(TABLES)
    written = write_all(TABLES, tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == sorted(
        [f"tt05/{v.value}.xsd" for v in Variant] + ["oai/tt05_ead.xsd"]
    )
    assert write_all(TABLES, tmp_path) == []
    assert main([]) == 0


def test_schema_says_what_xsd_cannot() -> None:
    text = schema_path(Variant.HOSO_SIP).read_text(encoding="utf-8")
    assert '<xs:element name="paperFileCode" minOccurs="0">' in text
    assert "Bắt buộc khi confidenceLevel (Mức độ tin cậy) là 02" in text
    assert "Mandatory when riskRecovery (Backup-copy regime) is 1" in text
    assert '<xs:documentation xml:lang="vi">Mã hồ sơ gốc giấy</xs:documentation>' in text
    assert '<xs:documentation xml:lang="en">Code of the paper original</xs:documentation>' in text


def test_schema_rejects_unknown_and_repeated_elements_and_reports_lines(tmp_path: Path) -> None:
    body = "\n".join(f"<{k}>{v}</{k}>" for k, v in full_values(Variant.TAILIEU_SIP).items())
    path = write_xml(tmp_path / "EAD.xml", f"<ead>\n{body}\n<title>lần hai</title>\n<bogus/>\n</ead>")
    findings = validate_xsd(path, Variant.TAILIEU_SIP, where="EAD.xml")
    assert findings and {f.code for f in findings} == {"tt05.schema"}
    assert findings[0].params["file"] == "EAD.xml" and findings[0].params["line"] == 8


def test_schema_validation_of_a_broken_file_is_a_finding(tmp_path: Path) -> None:
    path = write_xml(tmp_path / "EAD.xml", "<ead><title>")
    assert [f.code for f in validate_xsd(path, Variant.HOSO_SIP)] == ["tt05.not_xml"]


def test_a_mapped_value_for_an_element_the_table_lacks_is_reported() -> None:
    findings = check(Variant.TAILIEU_AIP, full_values(Variant.TAILIEU_AIP) | {"totalDoc": "3"})
    assert [(f.code, f.params["element"]) for f in findings] == [("tt05.unknown_element", "totalDoc")]
