"""Office documents and e-books checked by a well-kept parser (``office`` results).

Which parser reads which format is in :mod:`preservation.characterize.office_formats`; the ZIP
packages (OOXML, ODF, EPUB) are read by :mod:`office_package`, the legacy binaries by
:mod:`office_binary`. Where the parser reads only the framing (WordPerfect, Lotus, Access), a
framing that is fine says nothing: the result is left to LibreOffice's load
(:mod:`preservation.characterize.libreoffice`), and Access, which LibreOffice cannot open, is
"not checked". How much is checked is a setting (``[characterization] office_load``):

- ``parser`` (default): the parser, and LibreOffice only for the formats no parser covers;
- ``libreoffice``: LibreOffice wherever it has an import filter, the parser elsewhere;
- ``both``: the parser and LibreOffice (about 2 s a file more).
"""

from __future__ import annotations

from pathlib import Path

import olefile
from lxml import etree

from preservation.characteristics import Characterization, PropertyValue, Validity
from preservation.characterize.office_binary import check_binary
from preservation.characterize.office_formats import Family, office_format
from preservation.characterize.office_package import check_package
from preservation.events import Agent
from preservation.findings import Finding, Severity
from preservation.formats import FormatMatch
from preservation.validation_config import OfficeLoad

_PACKAGES = {Family.OOXML, Family.ODF, Family.EPUB}


class OfficeCharacterizer:
    name = "office"

    def __init__(self, *, load: OfficeLoad = OfficeLoad.PARSER) -> None:
        self.load = load
        self.agent = Agent(
            name="kholuu-office",
            version=f"lxml {'.'.join(map(str, etree.LXML_VERSION[:3]))}, olefile {olefile.__version__}",
        )

    def applies(self, fmt: FormatMatch) -> bool:
        office = office_format(fmt)
        if office is None:
            return False
        if self.load is OfficeLoad.LIBREOFFICE:
            return not office.filter  # LibreOffice reads the rest
        return True

    def characterize(self, path: Path, fmt: FormatMatch) -> Characterization | None:
        office = office_format(fmt)
        assert office is not None
        props: dict[str, PropertyValue] = {"family": office.family.value}
        if office.family in _PACKAGES:
            package = check_package(path, office.family)
            props["entries"] = package.entries
            if package.too_large:
                finding = Finding("office.too_large", Severity.WARNING, path.name, package.too_large)
                return self._result(Validity.COULD_NOT_CHECK, (finding,), props)
            findings = tuple(package.findings)
            encrypted = any(f.code == "office.encrypted" for f in findings)
        else:
            binary = check_binary(path, office.family)
            findings, encrypted = tuple(binary.findings), binary.encrypted
        if encrypted:
            finding = Finding("office.encrypted", Severity.WARNING, path.name, "the document is encrypted")
            return self._result(Validity.COULD_NOT_CHECK, (finding,), {**props, "encrypted": True})
        if any(f.severity is Severity.ERROR for f in findings):
            return self._result(Validity.INVALID, findings, props)
        if office.parser_checks_content:
            return self._result(Validity.VALID, findings, props)
        if office.filter:
            return None  # the framing is fine; LibreOffice's load gives the verdict
        finding = Finding(
            "office.not_opened",
            Severity.WARNING,
            path.name,
            "its framing (header, pages or container) is sound, but no parser or LibreOffice "
            "import reads the content: not checked",
        )
        return self._result(Validity.NOT_CHECKED, (*findings, finding), props)

    def _result(
        self, validity: Validity, findings: tuple[Finding, ...], props: dict[str, PropertyValue]
    ) -> Characterization:
        return Characterization("office", self.agent, validity, findings, props)
