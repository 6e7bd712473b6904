"""Issue 11 item 22: TT 05 codes are checked for their NĐ 30 / TT 05 structure, and a tài liệu filed
under another hồ sơ's code is refused, not a warning."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from preservation.findings import Severity
from preservation.tt05.codes import dossier_code_problem, load_code_rules, package_code_problem
from preservation.tt05.model import Description, PackageType, RecordSet, doc_code
from preservation.tt05.package import check_records
from preservation.tt05.tables import DEFAULT_DIR, Tables, Variant, load_tables
from repository.i18n import Translator
from tests.tt05 import FILE_CODE, ORGAN_ID, dossier_records, valid_values

RULES = load_code_rules()
TODAY = date(2026, 12, 7)


@pytest.fixture(scope="module")
def tables() -> Tables:
    return load_tables()


def code_errors(records: RecordSet, tables: Tables) -> list[tuple[str, str]]:
    return [
        (f.code, f.where.rsplit("#", 1)[-1])
        for f in check_records(records, tables, intake=False)
        if f.severity is Severity.ERROR and f.code.startswith("description.")
    ]


@pytest.mark.parametrize(
    "code",
    [
        FILE_CODE,
        "000.00.27.H01.2024.05.VP",
        "000.00.35.H01.2025.12.QĐ",
        "000.00.35.H01.2025.05.TTr",
        "H49.64.33.2001.160",
    ],
)
def test_item22_real_dossier_codes_pass(code: str) -> None:
    assert dossier_code_problem(code, RULES, today=TODAY) is None


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("'; DROP TABLE dossier;--", "characters"),
        (f"{ORGAN_ID}.2024.01 XD", "characters"),
        (f"{ORGAN_ID}.2024.<b>", "characters"),
        ("HOSO-01", "structure"),
        (f"{ORGAN_ID}.01.XD", "structure"),  # no year
        ("h49.64.33.2024.01.XD", "structure"),  # not an agency identifier
        (f"{ORGAN_ID}.2024.XD", "structure"),  # ký hiệu without its number
        (f"{ORGAN_ID}.2024.01.{'X' * 30}", "structure"),  # số và ký hiệu over 20 characters
        (f"{ORGAN_ID}.3024.01.XD", "year"),
        (f"{ORGAN_ID}.1024.01.XD", "year"),
    ],
)
def test_item22_malformed_dossier_codes_are_named(code: str, kind: str) -> None:
    problem = dossier_code_problem(code, RULES, today=TODAY)
    assert problem is not None and problem.kind == kind


def test_item22_package_codes_of_sip_tailieu() -> None:
    assert package_code_problem(f"{ORGAN_ID}.2024.01.0000001", RULES, today=TODAY) is None
    for bad in (f"{ORGAN_ID}.2024.1.1", f"{ORGAN_ID}.2024.01.0000001;--", "2024.01.0000001"):
        assert package_code_problem(bad, RULES, today=TODAY) is not None


def test_item22_sql_in_file_code_refuses_the_records(tables: Tables) -> None:
    bad = "'; DROP TABLE dossier;--"
    records = dossier_records(tables, ["a.pdf"])
    package = replace(records.package, values={**records.package.values, "fileCode": bad})
    records = replace(records, package=package)
    errors = code_errors(records, tables)
    assert ("description.code_characters", "fileCode") in errors
    finding = next(
        f for f in check_records(records, tables, intake=False) if f.code == "description.code_characters"
    )
    for language in ("vi", "en"):
        text = Translator(language).text(finding.code, finding.params)
        assert bad in text and "{" not in text


def test_item22_doc_code_of_another_dossier_is_an_error(tables: Tables) -> None:
    other = f"{ORGAN_ID}.2024.02.XD"
    records = dossier_records(tables, ["a.pdf", "b.pdf"], documents={1: {"docCode": doc_code(other, 2)}})
    assert code_errors(records, tables) == [("description.doc_code_prefix", "docCode")]
    # a code that merely begins with the same characters is another hồ sơ too
    records = dossier_records(tables, ["a.pdf"], documents={0: {"docCode": f"{FILE_CODE}9.0000001"}})
    assert code_errors(records, tables) == [("description.doc_code_prefix", "docCode")]


def test_item22_a_valid_dossier_has_no_code_findings(tables: Tables) -> None:
    records = dossier_records(tables, ["a.pdf", "b.pdf", "c.pdf"])
    assert code_errors(records, tables) == []


def test_item22_rules_are_data(tmp_path: Path) -> None:
    """What the circular leaves open is configurable: a wider agency-id rule, a warning for prefixes."""
    text = (DEFAULT_DIR / "codes.toml").read_text(encoding="utf-8")
    text = text.replace("organ_id = '[0-9A-Z]{3}(\\.[0-9A-Z]{2,3}){1,3}'", "organ_id = '[0-9A-Za-z.]+'")
    text = text.replace('doc_code_prefix = "error"', 'doc_code_prefix = "warning"')
    (tmp_path / "codes.toml").write_text(text, encoding="utf-8")
    wide = load_code_rules(tmp_path / "codes.toml")
    assert dossier_code_problem("h49.64.33.2024.01.XD", wide, today=TODAY) is None
    assert wide.doc_code_prefix is Severity.WARNING


def test_item22_tailieu_package_code_is_checked(tables: Tables) -> None:
    values = valid_values(Variant.TAILIEU_SIP, tables, fileCode="'; DROP TABLE dossier;--", totalDoc="0")
    records = RecordSet(
        package_type=PackageType.SIP_TAILIEU,
        package=Description(Variant.TAILIEU_SIP, "metadata/descriptive/EAD.xml", values),
        documents=(),
    )
    assert ("description.code_characters", "fileCode") in code_errors(records, tables)
