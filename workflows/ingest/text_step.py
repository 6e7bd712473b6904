"""The ingest step "text extraction": every payload file's text, for search, OCR'd where needed.

After validation, each payload file with text (a PDF text layer, plain text, DOCX/ODT, HTML/XML)
has it read; a scan (an image of text, or PDF pages that show an image and have no text) is OCR'd
with ``ocrmypdf -l vie`` when ``[planning] ocr`` allows, which also makes the "PDF/A hai lớp" TT
05/2025 asks for (left in the job's work folder for the normalization step to keep). Each file
gets a PREMIS ``metadata extraction`` event (the LoC vocabulary has no "text extraction"; OCR is
named in the detail, its confidence in the outcome detail). A file whose text cannot be read gets
a failed event and no text: text extraction never fails an ingest. The texts reach the catalog
with the AIP, in the registration transaction (:func:`repository.catalog.file_text.add_texts`).
"""

from __future__ import annotations

from preservation.errors import KholuuError, ToolError
from preservation.events import Agent, Event, EventType, Outcome
from preservation.formats import FormatIdentification
from preservation.package import PayloadFile, Submission
from preservation.planning.ocr import OcrOptions, file_text
from preservation.planning.text import ExtractedText, TextMethod
from repository.settings import PlanningSettings
from workflows.ingest.parallel import ordered_map
from workflows.jobs.runner import StepContext


def ocr_options(planning: PlanningSettings) -> OcrOptions | None:
    """The OCR the settings allow, or None when ``[planning] ocr`` is off."""
    if not planning.ocr:
        return None
    return OcrOptions(
        languages=planning.ocr_languages,
        timeout=planning.ocr_timeout_seconds,
        max_pages=planning.ocr_max_pages,
        image_dpi=planning.ocr_image_dpi,
        min_confidence=planning.ocr_min_confidence,
    )


def extract_texts(
    ctx: StepContext, submission: Submission, formats: dict[str, FormatIdentification]
) -> dict[str, ExtractedText]:
    """The text of every payload file that has one, by file uuid."""
    planning = ctx.settings.planning
    if not planning.text_extraction:
        return {}
    ocr = ocr_options(planning)
    out: dict[str, ExtractedText] = {}

    def one(f: PayloadFile) -> ExtractedText | KholuuError | None:
        ident = formats.get(f.uuid)
        try:
            return file_text(
                f.path,
                ident.chosen.mime if ident is not None else None,
                ctx.work_dir / "text" / f.uuid,
                ocr=ocr,
                timeout=planning.text_timeout_seconds,
                limit=planning.max_text_bytes,
            )
        except KholuuError as exc:
            return exc

    ctx.progress.start("text extraction", len(submission.payload))
    try:
        for f, found in ordered_map(one, submission.payload, ctx.settings.ingest.workers):
            if isinstance(found, KholuuError):
                ctx.record(_failed(ctx, f.uuid, found))
            elif found is not None:
                out[f.uuid] = found
                ctx.record(_extracted(ctx, f.uuid, found))
            ctx.progress.advance(f.name.text)
    finally:
        ctx.progress.finish()
    return out


def _agents(ctx: StepContext, found: ExtractedText) -> tuple[Agent, ...]:
    return tuple(Agent(name=name, version=version) for name, version in found.tools) or (ctx.software,)


def _extracted(ctx: StepContext, file_uuid: str, found: ExtractedText) -> Event:
    facts = [f"{len(found.text)} characters", f"language {found.language}"]
    if found.pages is not None:
        facts.append(f"{found.pages} page(s)")
    if found.method is TextMethod.OCR:
        facts.insert(0, f"mean word confidence {found.confidence}")
        facts.append(f"{found.pages_ocr} page(s) OCR'd into PDF/A-2 with a text layer")
    if found.truncated:
        facts.append("truncated: only the first part of the text is kept")
    if found.note:
        facts.append(found.note)
    ocr = found.method is TextMethod.OCR
    return Event(
        type=EventType.METADATA_EXTRACTION,
        outcome=Outcome.WARNING if found.note else Outcome.SUCCESS,
        detail=f"Text recognized for search (OCR, Tesseract languages {found.language})"
        if ocr
        else f"Text extracted for search ({found.method.value})",
        detail_code="ingest.text_ocr" if ocr else "ingest.text_extracted",
        detail_params={"languages": found.language} if ocr else {"method": found.method.value},
        outcome_detail="; ".join(facts),
        agents=_agents(ctx, found),
        objects=(file_uuid,),
    )


def _failed(ctx: StepContext, file_uuid: str, exc: KholuuError) -> Event:
    tool = exc.tool if isinstance(exc, ToolError) else ""
    stderr = exc.stderr if isinstance(exc, ToolError) else ""
    return Event(
        type=EventType.METADATA_EXTRACTION,
        outcome=Outcome.FAILURE,
        detail="Text extraction for search failed; the file is stored without searchable text",
        detail_code="ingest.text_failed",
        outcome_detail="; ".join(filter(None, [f"{exc.code}: {exc}", stderr])),
        agents=(Agent(name=tool, version="") if tool else ctx.software,),
        objects=(file_uuid,),
    )
