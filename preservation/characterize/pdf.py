"""PDF validation and characterization with pikepdf (qpdf).

qpdf's structure check finds damaged cross-reference tables, broken object streams and bad
content; we keep every problem it reports. The PDF/A claim (XMP ``pdfaid``) is recorded here as a
claim; :mod:`preservation.characterize.pdfa` checks it. The TT 05/2025 Điều 8 parameters of a
digitised document are measured here too (:mod:`preservation.characterize.pdf_layers`): the
text layer of "hai lớp", and the resolution and colour depth of page scans.
"""

from __future__ import annotations

from pathlib import Path

import pikepdf

from preservation.characteristics import Characterization, PropertyValue, Validity
from preservation.characterize.pdf_layers import PageLayers, page_layers
from preservation.characterize.tt05_parameters import Measures, colour_depth, resolution, text_layer
from preservation.events import Agent
from preservation.findings import Finding, Severity
from preservation.formats import FormatMatch
from preservation.planning.parameters import TechnicalParameters

PDF_PUIDS = frozenset(
    {
        f"fmt/{n}"
        for n in (
            14,
            15,
            16,
            17,
            18,
            19,
            20,
            95,
            144,
            145,
            146,
            147,
            148,
            157,
            158,
            276,
            354,
            476,
            477,
            478,
            479,
            480,
            481,
            488,
            489,
            490,
            491,
            492,
            493,
            1129,
            1451,
        )
    }
)
MAX_FINDINGS = 50


class PdfCharacterizer:
    name = "pdf"

    def __init__(self, *, parameters: TechnicalParameters | None = None) -> None:
        self.agent = Agent(
            name="pikepdf", version=f"{pikepdf.__version__} (qpdf {pikepdf.__libqpdf_version__})"
        )
        self.parameters = parameters or TechnicalParameters()

    def applies(self, fmt: FormatMatch) -> bool:
        return fmt.mime == "application/pdf" or fmt.puid in PDF_PUIDS

    def characterize(self, path: Path, fmt: FormatMatch) -> Characterization:
        try:
            pdf = pikepdf.open(path)
        except pikepdf.PasswordError:
            return self._result(
                Validity.COULD_NOT_CHECK,
                [Finding("pdf.encrypted", Severity.WARNING, path.name, "the PDF needs a password to open")],
                {"encrypted": True},
            )
        except (pikepdf.PdfError, OSError, ValueError) as exc:
            return self._result(
                Validity.INVALID,
                [
                    Finding(
                        "pdf.damaged",
                        Severity.ERROR,
                        path.name,
                        f"cannot be opened: {str(exc).replace(str(path), path.name)}",
                    )
                ],
                {},
            )
        with pdf:
            props: dict[str, PropertyValue] = {
                "pages": len(pdf.pages),
                "pdf_version": pdf.pdf_version,
                "encrypted": bool(pdf.is_encrypted),
                "linearized": bool(pdf.is_linearized),
            }
            try:
                with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
                    part = meta.get("pdfaid:part")
                    conformance = meta.get("pdfaid:conformance")
                    if part:
                        props["pdfa_claim"] = f"{part}{conformance or ''}".upper()
                    for key, prop in (("producer", "pdf:Producer"), ("creator", "xmp:CreatorTool")):
                        value = meta.get(prop)
                        if value:
                            props[key] = str(value)
            except (pikepdf.PdfError, ValueError, KeyError, TypeError):
                pass  # unreadable XMP is reported by the syntax check below if it matters
            try:
                problems = pdf.check_pdf_syntax()
            except pikepdf.PdfError as exc:
                problems = [str(exc)]
            measured, remarks = _tt05_measures(page_layers(pdf), self.parameters, path.name)
        props.update(measured)
        where = str(path)
        findings = [_classify(p.replace(where, path.name), path.name) for p in problems[:MAX_FINDINGS]]
        findings.extend(remarks)
        if len(problems) > MAX_FINDINGS:
            props["syntax_problems"] = len(problems)
        damaged = any(f.severity is Severity.ERROR for f in findings)
        return self._result(Validity.INVALID if damaged else Validity.VALID, findings, props)

    def _result(
        self, validity: Validity, findings: list[Finding], props: dict[str, PropertyValue]
    ) -> Characterization:
        return Characterization("pdf", self.agent, validity, tuple(findings), props)


def _tt05_measures(layers: PageLayers, params: TechnicalParameters, where: str) -> Measures:
    """Text layer always; resolution and colour depth when some page is a scan."""
    props, findings = text_layer(
        layers.image_pages, layers.image_pages_without_text, layers.text_pages, layers.pages, where
    )
    if layers.invisible_text_pages:
        props["ocr_text_pages"] = layers.invisible_text_pages
    if layers.pages_read < layers.pages:
        props["pages_read"] = layers.pages_read
    if layers.scan_dpi is not None:
        props["scan_dpi"] = round(layers.scan_dpi, 1)
        for p, f in (
            resolution(layers.scan_dpi, params, where),
            colour_depth(layers.scan_bits, layers.scan_grey, params, where),
        ):
            props.update(p)
            findings.extend(f)
    return props, findings


_LINEARIZATION_HINTS = ("linearized", "hint table", "shared identifier", "shared object", "linearization")


def _classify(message: str, where: str) -> Finding:
    """qpdf reports linearization ("fast web view") hint-table quirks with the same prefix as real
    damage; they do not affect the content, so they are warnings, not invalidity."""
    lowered = message.lower()
    if any(h in lowered for h in _LINEARIZATION_HINTS):
        return Finding("pdf.linearization", Severity.WARNING, where, message)
    return Finding("pdf.syntax", Severity.ERROR, where, message)
