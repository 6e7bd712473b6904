"""XML bombs and external references, at the three places we parse submitted XML: the XML
characterizer (any XML payload file, with its declared XSD), the TT 05 description reader and
the E-ARK METS reader.

Every document is parsed without entity expansion, DTD loading or network; a schema may only
pull files from inside the package. Each case also checks that a secret file beside the package
never appears in what the reader returns.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from preservation.characteristics import Validity
from preservation.characterize.xml import XmlCharacterizer
from preservation.eark_sip import parse_mets
from preservation.errors import KholuuError
from preservation.formats import FormatMatch
from preservation.tt05.ead import parse_description
from preservation.tt05.ead_check import check_description
from preservation.tt05.tables import Variant, shipped_tables
from tests.hostile.corpus import Case, Outcome

XML = FormatMatch("fmt/101", mime="application/xml")
SECRET = "TOP-SECRET-MARKER"
XS = "http://www.w3.org/2001/XMLSchema"
XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'

LAUGHS = (
    '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {n} "{("&" + p + ";") * 10}">' for p, n in zip("abcdefg", "bcdefgh", strict=True))
    + "]>"
)
QUADRATIC_ENTITY = '<!DOCTYPE r [<!ENTITY a "' + "x" * 50_000 + '">]>'


def _xxe(secret: Path) -> str:
    return f'<!DOCTYPE r [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'


#: name -> (DOCTYPE or prologue, body); the secret's path is filled in at build time
BODIES: dict[str, Callable[[Path], tuple[str, str]]] = {
    "billion-laughs": lambda s: (LAUGHS, "&h;"),
    "quadratic-blowup": lambda s: (QUADRATIC_ENTITY, "&a;" * 5000),
    "external-entity-file": lambda s: (_xxe(s), "&x;"),
    "external-entity-in-attribute": lambda s: (_xxe(s), ""),
    "external-entity-http": lambda s: ('<!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>', "&x;"),
    "parameter-entity": lambda s: (f'<!DOCTYPE r [<!ENTITY % p SYSTEM "{s.as_uri()}"> %p;]>', ""),
    "external-dtd": lambda s: (f'<!DOCTYPE r SYSTEM "{s.as_uri()}">', ""),
    "xinclude-text": lambda s: (
        "",
        f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{s}" parse="text"/>',
    ),
    "deep-nesting": lambda s: ("", "<a>" * 300 + "</a>" * 300),
    "undefined-entity": lambda s: ("", "&nope;"),
    # found by the fuzz run: lxml raises OSError, not XMLSyntaxError, for bytes not in the encoding
    "bytes-not-in-declared-encoding": lambda s: ("", "<b>\udcff\udcfe</b>"),
}
#: what each reader answers: (outcome, code)
XML_CHARACTERIZER = {
    "billion-laughs": (Outcome.WARNED, "xml.entity_bomb"),
    "quadratic-blowup": (Outcome.WARNED, "xml.entity_bomb"),
    "external-entity-file": (Outcome.ACCEPTED, ""),
    "external-entity-in-attribute": (Outcome.WARNED, "xml.not_well_formed"),
    "external-entity-http": (Outcome.ACCEPTED, ""),
    "parameter-entity": (Outcome.ACCEPTED, ""),
    "external-dtd": (Outcome.ACCEPTED, ""),
    "xinclude-text": (Outcome.ACCEPTED, ""),
    "deep-nesting": (Outcome.WARNED, "xml.too_deep"),
    "undefined-entity": (Outcome.WARNED, "xml.not_well_formed"),
    "bytes-not-in-declared-encoding": (Outcome.WARNED, "xml.not_well_formed"),
}
TT05 = {
    "billion-laughs": "tt05.not_xml",
    "quadratic-blowup": "tt05.not_xml",
    "external-entity-file": "tt05.doctype",
    "external-entity-in-attribute": "tt05.not_xml",
    "external-entity-http": "tt05.doctype",
    "parameter-entity": "tt05.doctype",
    "external-dtd": "tt05.doctype",
    "xinclude-text": "tt05.unknown_element",
    "deep-nesting": "tt05.not_xml",
    "undefined-entity": "tt05.not_xml",
    "bytes-not-in-declared-encoding": "tt05.not_xml",
}
EARK = {
    "billion-laughs": "eark.mets_not_well_formed",
    "quadratic-blowup": "eark.mets_not_well_formed",
    "external-entity-in-attribute": "eark.mets_not_well_formed",
    "deep-nesting": "eark.mets_not_well_formed",
    "undefined-entity": "eark.mets_not_well_formed",
    "bytes-not-in-declared-encoding": "eark.mets_not_well_formed",
}

CASES: list[Case] = []
READER: dict[str, str] = {}


def _document(name: str, root: str, attrs: str = "") -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        secret = d / "secret.txt"
        secret.write_text(SECRET)
        pkg = d / "pkg"
        pkg.mkdir()
        prologue, body = BODIES[name](secret)
        if name == "external-entity-in-attribute":
            attrs_ = f'{attrs} a="&x;"'
        else:
            attrs_ = attrs
        path = pkg / "doc.xml"
        path.write_text(
            f'<?xml version="1.0"?>{prologue.replace(" r ", f" {root} ")}<{root}{attrs_}>{body}</{root}>',
            encoding="utf-8",
            errors="surrogateescape",
        )
        return path

    return build


for _name in BODIES:
    _outcome, _code = XML_CHARACTERIZER[_name]
    CASES.append(
        Case(
            f"xml-payload-{_name}",
            "XML bombs and external references: payload XML",
            _document(_name, "r"),
            _code,
            _outcome,
        )
    )
    READER[f"xml-payload-{_name}"] = "xml"
    _tt05 = TT05[_name]
    CASES.append(
        Case(
            f"tt05-description-{_name}",
            "XML bombs and external references: TT 05 description",
            _document(_name, "hoso"),
            _tt05,
            Outcome.WARNED if _tt05 == "tt05.unknown_element" else Outcome.REFUSED,
        )
    )
    READER[f"tt05-description-{_name}"] = "tt05"
    if _name in EARK:
        CASES.append(
            Case(
                f"eark-mets-{_name}",
                "XML bombs and external references: E-ARK METS",
                _document(_name, "mets"),
                EARK[_name],
            )
        )
        READER[f"eark-mets-{_name}"] = "eark"


def _schema(kind: str, target: Callable[[Path], str]) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        secret = d / "secret.xsd"
        secret.write_text(f'<xs:schema xmlns:xs="{XS}"><!-- {SECRET} --></xs:schema>')
        pkg = d / "pkg"
        pkg.mkdir()
        where = target(pkg)
        ns = ' namespace="urn:x"' if kind == "import" else ""
        (pkg / "s.xsd").write_text(
            f'<xs:schema xmlns:xs="{XS}"><xs:{kind} schemaLocation="{where}"{ns}/>'
            '<xs:element name="r"/></xs:schema>'
        )
        doc = pkg / "doc.xml"
        doc.write_text(f'<r {XSI} xsi:noNamespaceSchemaLocation="s.xsd"/>')
        return doc

    return build


def _fifo(pkg: Path) -> str:
    os.mkfifo(pkg / "pipe.xsd")
    return "pipe.xsd"


TARGETS: dict[str, tuple[Callable[[Path], str], str]] = {
    "absolute": (lambda pkg: str(pkg.parent / "secret.xsd"), "xml.schema_outside_package"),
    "file-url": (lambda pkg: (pkg.parent / "secret.xsd").as_uri(), "xml.schema_outside_package"),
    "climbing": (lambda pkg: "../secret.xsd", "xml.schema_outside_package"),
    "dev-stdin": (lambda pkg: "/dev/stdin", "xml.schema_outside_package"),
    "fifo-in-package": (_fifo, "xml.schema_outside_package"),
    "http": (lambda pkg: "http://127.0.0.1:9/x.xsd", "xml.schema_unavailable"),
}
for _kind in ("include", "import", "redefine"):
    for _label, (_target, _code) in TARGETS.items():
        if _label in ("file-url", "fifo-in-package") and _kind != "include":
            continue
        _id = f"xsd-{_kind}-{_label}"
        CASES.append(Case(_id, "XSD include/import/redefine", _schema(_kind, _target), _code, Outcome.WARNED))
        READER[_id] = "xml"


def _declared_schema_outside(d: Path) -> Path:
    (d / "secret.xsd").write_text(f'<xs:schema xmlns:xs="{XS}"><!-- {SECRET} --></xs:schema>')
    pkg = d / "pkg"
    pkg.mkdir()
    doc = pkg / "doc.xml"
    doc.write_text(f'<r {XSI} xsi:noNamespaceSchemaLocation="../secret.xsd"/>')
    return doc


CASES.append(
    Case(
        "xsd-declared-outside-package",
        "XSD include/import/redefine",
        _declared_schema_outside,
        "xml.schema_unavailable",
        Outcome.WARNED,
    )
)
READER["xsd-declared-outside-package"] = "xml"


@pytest.mark.parametrize("hostile", CASES, ids=[c.id for c in CASES])
def test_hostile_xml(hostile: Case, tmp_path: Path) -> None:
    path = hostile.build(tmp_path)
    reader = READER[hostile.id]
    if reader == "xml":
        result = XmlCharacterizer(search_root=path.parent).characterize(path, XML)
        codes = [f.code for f in result.findings]
        # a payload file is kept whatever it holds: not well-formed is "invalid", a file a limit
        # stopped is "could not check"; either way with its finding
        damaged = Validity.INVALID if hostile.code == "xml.not_well_formed" else Validity.COULD_NOT_CHECK
        expected = (Validity.VALID, []) if hostile.outcome is Outcome.ACCEPTED else (damaged, [hostile.code])
        assert (result.validity, codes) == expected
        seen = repr(result)
    elif reader == "tt05":
        try:
            parsed = parse_description(path, Variant.HOSO_SIP, "metadata/descriptive/EAD.xml")
        except KholuuError as exc:
            assert hostile.outcome is Outcome.REFUSED and exc.code == hostile.code, exc
            seen = repr(exc.params) + str(exc)
        else:
            findings = check_description(parsed, shipped_tables())
            assert hostile.code in {f.code for f in findings}
            seen = repr(parsed) + repr(findings)
    else:
        try:
            tree = parse_mets(path, "METS.xml")
        except KholuuError as exc:
            assert exc.code == hostile.code, exc
            seen = str(exc)
        else:
            pytest.fail(f"parsed: {etree.tostring(tree)[:200]!r}")
    assert SECRET not in seen
    if not hostile.id.startswith("xsd-"):  # an XSD finding names the location the schema asked for
        assert str(tmp_path) not in seen  # no quarantine path in what users read
