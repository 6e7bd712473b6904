"""JPEG 2000 (JP2, ISO/IEC 15444-1 Annex I) validated with jpylyzer.

jpylyzer checks the box structure and the codestream header against the standard and says
``isValid``; every test it failed is kept as a finding (``jp2.test_failed`` naming the box and the
test, as jpylyzer names them). Pillow (the ``image`` result) still decodes the pixels and measures
the TT 05 parameters; this adds the format conformance Pillow does not check.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import jpylyzer
from jpylyzer import jpylyzer as jpylyzer_main

from preservation.characteristics import Characterization, PropertyValue, Validity
from preservation.events import Agent
from preservation.findings import Finding, Severity
from preservation.formats import FormatMatch

JP2_PUIDS = frozenset({"x-fmt/392"})
MAX_FINDINGS = 50


class Jp2Characterizer:
    name = "jp2"

    def __init__(self) -> None:
        version = getattr(jpylyzer_main, "__version__", None) or getattr(jpylyzer, "__version__", "unknown")
        self.agent = Agent(name="jpylyzer", version=str(version))

    def applies(self, fmt: FormatMatch) -> bool:
        return fmt.puid in JP2_PUIDS or fmt.mime == "image/jp2"

    def characterize(self, path: Path, fmt: FormatMatch) -> Characterization:
        result = jpylyzer_main.checkOneFile(str(path), "jp2")
        success = (result.findtext("statusInfo/success") or "").strip() == "True"
        if not success:
            text = (
                result.findtext("statusInfo/failureMessage") or "jpylyzer could not read the file"
            ).strip()
            return Characterization(
                "jp2",
                self.agent,
                Validity.COULD_NOT_CHECK,
                (Finding("jp2.not_read", Severity.WARNING, path.name, text.replace(str(path), path.name)),),
            )
        valid = (result.findtext("isValid") or "").strip() == "True"
        findings = [
            Finding(
                "jp2.test_failed", Severity.ERROR, path.name, f"{box}: {test}", {"box": box, "test": test}
            )
            for box, test in _failed_tests(result.find("tests"))
        ][:MAX_FINDINGS]
        if not valid and not findings:
            findings.append(Finding("jp2.test_failed", Severity.ERROR, path.name, "jpylyzer: not valid JP2"))
        return Characterization(
            "jp2",
            self.agent,
            Validity.VALID if valid else Validity.INVALID,
            tuple(findings),
            _properties(result),
        )


def _failed_tests(tests: ET.Element | None, trail: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """jpylyzer lists only the failed tests, as a tree: box elements holding test elements."""
    if tests is None:
        return []
    out: list[tuple[str, str]] = []
    for child in tests:
        if len(child):
            out.extend(_failed_tests(child, (*trail, child.tag)))
        else:
            out.append(("/".join(trail) or "file", child.tag))
    return out


def _properties(result: ET.Element) -> dict[str, PropertyValue]:
    header = "properties/jp2HeaderBox/imageHeaderBox/"
    props: dict[str, PropertyValue] = {}
    for key, xpath in (("width", "width"), ("height", "height"), ("components", "nC"), ("bits", "bPCDepth")):
        text = result.findtext(header + xpath)
        if text and text.strip().isdigit():
            props[key] = int(text)
    for box in ("captureResolutionBox", "displayResolutionBox"):
        dpi = result.findtext(f"properties/jp2HeaderBox/resolutionBox/{box}/hRescInPixelsPerInch")
        if dpi:
            try:
                props["dpi"] = round(float(dpi), 1)
                break
            except ValueError:
                pass
    return props
