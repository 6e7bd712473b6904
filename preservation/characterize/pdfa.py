"""PDF/A: the claim in XMP checked against what we can check without veraPDF.

A PDF that says ``pdfaid:part``/``pdfaid:conformance`` in its XMP is checked for the ISO 19005
requirements that pikepdf and lxml can see (each check's clause in :data:`CHECKS`): the XMP is there
and parses and its identification is well formed; no encryption; every font embedded; no JavaScript
or forbidden actions; an OutputIntent with an ICC profile where device colour is used; no
transparency in PDF/A-1; ToUnicode maps for levels A and U (and PDF/A-4); a structure tree,
MarkInfo, standard structure types and language tags for level A; embedded files as each part
allows; annotation flags and appearances. A claim that fails one is "invalid" (the file is not what
it says it is) with a finding per failure; a claim that passes them is "valid" *for these checks
only*: veraPDF checks several hundred rules (the rest of the fonts' internals, colour spaces in
depth, structure semantics, the XMP schemas). A PDF without a claim gets no PDF/A result at all.
docs/planning.md "Validation" lists what is not caught and how to plug veraPDF in.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pikepdf

from preservation.characteristics import Characterization, PropertyValue, Validity
from preservation.characterize.pdf import PDF_PUIDS
from preservation.characterize.pdfa_claim import Claim, Failure, read_claim
from preservation.characterize.pdfa_level import (
    check_annotations,
    check_embedded_files,
    check_structure,
    check_unicode,
)
from preservation.characterize.pdfa_rules import (
    check_actions,
    check_encryption,
    check_fonts,
    check_identification,
    check_output_intent,
    check_transparency,
    check_xmp,
)
from preservation.events import Agent
from preservation.findings import Finding, Severity
from preservation.formats import FormatMatch

Check = Callable[[pikepdf.Pdf, Claim], list[Failure]]
CHECKS: tuple[tuple[str, Check], ...] = (
    ("identification", check_identification),
    ("xmp", check_xmp),
    ("encryption", check_encryption),
    ("fonts", check_fonts),
    ("actions", check_actions),
    ("output_intent", check_output_intent),
    ("transparency", check_transparency),
    ("unicode", check_unicode),
    ("structure", check_structure),
    ("embedded_files", check_embedded_files),
    ("annotations", check_annotations),
)
"""Every check, in the order findings are reported; the names go into ``pdfa_checks_passed``."""


def _needs_repair(path: Path) -> bool:
    """qpdf opens a damaged file by rebuilding its cross-reference table; refused that, it fails."""
    try:
        with pikepdf.open(path, attempt_recovery=False):
            return False
    except pikepdf.PdfError:
        return True
    except pikepdf.PasswordError:
        return False


class PdfaCharacterizer:
    name = "pdfa"

    def __init__(self) -> None:
        self.agent = Agent(name="kholuu-pdfa (pikepdf)", version=f"{pikepdf.__version__}")

    def applies(self, fmt: FormatMatch) -> bool:
        return fmt.mime == "application/pdf" or fmt.puid in PDF_PUIDS

    def characterize(self, path: Path, fmt: FormatMatch) -> Characterization | None:
        """None when the file makes no PDF/A claim or cannot be opened (the ``pdf`` result says why)."""
        try:
            pdf = pikepdf.open(path)
        except (pikepdf.PdfError, pikepdf.PasswordError, OSError, ValueError):
            return None  # the pdf result says why
        with pdf:
            claim = read_claim(pdf)
            if claim is None:
                return None
            return self.check(pdf, claim, path.name, damaged=_needs_repair(path))

    def check(self, pdf: pikepdf.Pdf, claim: Claim, where: str, *, damaged: bool = False) -> Characterization:
        failures: list[tuple[str, Failure]] = []
        passed: list[str] = []
        if damaged:  # ISO 19005-1 6.1.4, -2 6.1.4: a cross-reference table that reads as written
            failures.append(("syntax", Failure("damaged", "its cross-reference table is damaged", {})))
        for name, check in CHECKS:
            found = check(pdf, claim)
            if found:
                failures.extend((name, f) for f in found)
            else:
                passed.append(name)
        props: dict[str, PropertyValue] = {
            "pdfa_claim": claim.label,
            "pdfa_checks_passed": ", ".join(passed),
        }
        findings = tuple(
            Finding(
                f"pdfa.{f.code}",
                Severity.ERROR,
                where,
                f"claims PDF/A-{claim.label} but {f.text}",
                {"claim": claim.label, "check": name, "detail": f.text, **f.params},
            )
            for name, f in failures
        )
        if failures:
            props["pdfa_checks_failed"] = ", ".join(dict.fromkeys(name for name, _ in failures))
        props["pdfa_result"] = "failed" if failures else "checks passed"
        return Characterization(
            "pdfa", self.agent, Validity.INVALID if failures else Validity.VALID, findings, props
        )
