"""TT 05/2025 description files checked rule by rule: presence (M/O/C and the ``required_if``
conditions), type, length, code lists, date forms and calendar, and the order the tables give.

Apart from :mod:`preservation.tt05.ead` (reading, writing, schema validation) because the rules are a
concept of their own: every variant's element table is applied here, and findings are collected, not
raised, so a package with ten problems gets ten findings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from preservation.findings import Finding, Severity
from preservation.names import nfc
from preservation.tt05.ead import (
    BOOLEAN_VALUES,
    CODE_SEPARATORS,
    DATE_FORMS,
    DATE_PAIRS,
    ParsedDescription,
    date_form,
    description_date,
)
from preservation.tt05.legacy_fonts import legacy_font
from preservation.tt05.model import Description
from preservation.tt05.tables import (
    Element,
    ElementTable,
    ElementType,
    Requirement,
    Tables,
)

__all__ = ["check_description"]


def check_description(parsed: ParsedDescription, tables: Tables, *, intake: bool = False) -> list[Finding]:
    """Every violation of the element table by one description file.

    Args:
        parsed: the file as read (:func:`parse_description`) or as mapped from a legacy source.
        tables: the element tables and code lists.
        intake: the package is an intake into a historical archive, which only takes records kept
            permanently (vn-standards.md §1.2 row 3: "nguồn nộp lưu chỉ nhận 01"); elements with
            ``intake`` codes must then have one of them.

    Returns:
        One finding per (element, rule), in table order, then unknown and repeated elements.
        ``where`` is ``<file>#<element>``; params always carry file, element, element_vi,
        element_en and rule.
    """
    description = parsed.description
    table = tables.table(description.variant)
    values = {name: nfc(value.strip()) for name, value in description.values.items()}
    findings: list[Finding] = []
    for element in table.elements:
        value = values.get(element.name, "")
        if not value:
            findings.extend(_missing(description, element, values, table))
            continue
        findings.extend(_value_findings(description, element, value, tables, intake))
        encoding = legacy_font(value) if element.type is ElementType.STRING else None
        if encoding is not None:
            findings.append(
                _finding(
                    code="tt05.legacy_font_text",
                    description=description,
                    element=element,
                    message=f"{element.name} = {value!r} looks like {encoding} text read as Unicode",
                    severity=Severity.WARNING,
                    value=value,
                    encoding=encoding,
                )
            )
    findings.extend(_order_findings(description, values, table))
    for name in parsed.repeated:
        known = table.element(name)
        if known is not None:
            findings.append(
                _finding(
                    code="tt05.repeated_element",
                    description=description,
                    element=known,
                    message=f"{known.name} is given more than once; the first value is kept",
                )
            )
    # A mapped description may carry names the table does not have; say so like the reader does.
    stray = [n for n in description.values if table.element(n) is None and n not in parsed.unknown]
    for name in (*parsed.unknown, *stray):
        findings.append(
            _finding(
                code="tt05.unknown_element",
                description=description,
                element=Element(
                    name=name, vi=name, en=name, type=ElementType.STRING, required=Requirement.OPTIONAL
                ),
                message=f"{name} is not an element of {table.file} ({table.en}); it is ignored",
                severity=Severity.WARNING,
                variant=table.variant.value,
                table_vi=table.vi,
                table_en=table.en,
            )
        )
    return findings


def _finding(
    code: str,
    description: Description,
    element: Element,
    message: str,
    *,
    severity: Severity = Severity.ERROR,
    **params: Any,
) -> Finding:
    return Finding(
        code=code,
        severity=severity,
        where=f"{description.path}#{element.name}",
        message=f"{description.path}: {message}",
        params={
            "file": description.path,
            "element": element.name,
            "element_vi": element.vi,
            "element_en": element.en,
            "rule": code.partition(".")[2],
            **params,
        },
    )


def _missing(
    description: Description,
    element: Element,
    values: Mapping[str, str],
    table: ElementTable,
) -> list[Finding]:
    if element.required is Requirement.MANDATORY:
        return [
            _finding(
                code="tt05.mandatory",
                description=description,
                element=element,
                message=f"mandatory element {element.name} is missing or empty",
                unverified=element.unverified,
            )
        ]
    condition = element.required_if
    if element.required is not Requirement.CONDITIONAL or condition is None:
        return []
    actual = values.get(condition.element, "")
    if actual not in condition.values:
        return []
    other = table.element(condition.element)
    return [
        _finding(
            code="tt05.conditional",
            description=description,
            element=element,
            message=f"{element.name} is required when {condition.element} is {actual}, and is missing",
            condition=condition.element,
            condition_vi=other.vi if other else condition.element,
            condition_en=other.en if other else condition.element,
            condition_values=condition.values,
            condition_value=actual,
        )
    ]


def _value_findings(
    description: Description, element: Element, value: str, tables: Tables, intake: bool
) -> list[Finding]:
    found: list[Finding] = []
    kind = element.type
    if (
        kind in (ElementType.STRING, ElementType.NUMBER, ElementType.CODE)
        and element.max is not None
        and len(value) > element.max
    ):
        found.append(
            _finding(
                code="tt05.too_long",
                description=description,
                element=element,
                message=f"{element.name} has {len(value)} characters, at most {element.max} allowed",
                value=value,
                length=len(value),
                max=element.max,
            )
        )
    if kind is ElementType.NUMBER and not (value.isascii() and value.isdigit()):
        found.append(
            _finding(
                code="tt05.not_number",
                description=description,
                element=element,
                message=f"{element.name} must be digits only, not {value!r}",
                value=value,
            )
        )
    elif kind is ElementType.BOOLEAN and value not in BOOLEAN_VALUES:
        found.append(
            _finding(
                code="tt05.not_boolean",
                description=description,
                element=element,
                message=f"{element.name} must be 0 or 1, not {value!r}",
                value=value,
                allowed=BOOLEAN_VALUES,
            )
        )
    elif kind is ElementType.DATE:
        formats = element.formats or tuple(DATE_FORMS)
        if _valid_date(element, value) is None:
            found.append(
                _finding(
                    code="tt05.bad_date",
                    description=description,
                    element=element,
                    message=f"{element.name} = {value!r} is not a date in the form {' or '.join(formats)}",
                    value=value,
                    formats=formats,
                )
            )
    elif kind is ElementType.CODE and element.codelist is not None:
        found.extend(_code_findings(description, element, value, tables, intake))
    return found


def _code_findings(
    description: Description, element: Element, value: str, tables: Tables, intake: bool
) -> list[Finding]:
    codelist = tables.codelist(element.codelist or "")
    allowed = codelist.values
    parts = [part.strip() for part in CODE_SEPARATORS.split(value)] if element.multi else [value]
    invalid = tuple(part or '""' for part in parts if part not in allowed)  # "01,": an empty code
    found: list[Finding] = []
    if invalid:
        found.append(
            _finding(
                code="tt05.bad_code",
                description=description,
                element=element,
                message=f"{element.name} = {value!r} is not in the code list {codelist.name} "
                f"({', '.join(allowed)})",
                value=value,
                invalid=invalid,
                allowed=allowed,
                codelist=codelist.name,
                codelist_vi=codelist.vi,
                codelist_en=codelist.en,
            )
        )
    if intake and element.intake:
        refused = tuple(part for part in parts if part in allowed and part not in element.intake)
        if refused:
            found.append(
                _finding(
                    code="tt05.intake_code",
                    description=description,
                    element=element,
                    message=f"{element.name} = {value!r}: an intake into a historical archive only takes "
                    f"{', '.join(element.intake)}",
                    value=value,
                    allowed=element.intake,
                    labels_vi=tuple(tables.label(codelist.name, c, "vi") for c in element.intake),
                    labels_en=tuple(tables.label(codelist.name, c, "en") for c in element.intake),
                )
            )
    return found


def _valid_date(element: Element, value: str) -> tuple[date, date] | None:
    if date_form(value) not in (element.formats or tuple(DATE_FORMS)):
        return None
    return description_date(value)


def _order_findings(
    description: Description, values: Mapping[str, str], table: ElementTable
) -> list[Finding]:
    found: list[Finding] = []
    for start_name, end_name in DATE_PAIRS:
        start_element = table.element(start_name)
        end_element = table.element(end_name)
        if start_element is None or end_element is None:
            continue
        # A bad date is reported as such (tt05.bad_date); order is only judged between good ones.
        start = _valid_date(start_element, values.get(start_name, ""))
        end = _valid_date(end_element, values.get(end_name, ""))
        # At the precision written: "2020" is not after "05/03/2020", "04/2020" is after "15/03/2020".
        if start is None or end is None or start[0] <= end[1]:
            continue
        found.append(
            _finding(
                code="tt05.date_order",
                description=description,
                element=start_element,
                message=f"{start_name} {values[start_name]} is after {end_name} {values[end_name]}",
                value=values[start_name],
                other=end_name,
                other_vi=end_element.vi,
                other_en=end_element.en,
                other_value=values[end_name],
            )
        )
    return found


# ----------------------------------------------------------------------------------------- writing
