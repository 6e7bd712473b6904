"""The fixity report's labels: English fallbacks for the ``report.<key>`` message-catalog texts,
and the lookup the HTML and CSV renderings share (so both name a figure or column the same way).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from repository.i18n import Translator

ENGLISH: dict[str, str] = {
    "title": "Fixity audit report",
    "period": "Period",
    "digest_note": "SHA-256 of the report data as canonical JSON (sorted keys, no spaces, UTF-8), without "
    "the digest itself. The JSON and CSV exports of this report carry the same value.",
    "section.summary": "Summary",
    "section.plot": "Checks and failures per day",
    "section.failures": "Failures and their repair",
    "section.incidents": "Open incidents",
    "section.objects": "Copies per object and where",
    "section.runs": "Audit runs in the period",
    "nothing": "None.",
    "yes": "yes",
    "no": "no",
    "figure.archive_name": "Archive",
    "figure.generated_at": "Generated at",
    "figure.since": "From",
    "figure.until": "Until",
    "figure.cycle_days": "Fixity cycle (days)",
    "figure.timezone": "Time zone of the days",
    "figure.digest": "Report digest",
    "figure.runs": "Audit runs",
    "figure.copies_checked": "Copies checked",
    "figure.objects_checked": "Objects checked",
    "figure.files_checked": "Files checked",
    "figure.bytes_checked": "Bytes checked",
    "figure.could_not_check": "of which could not be checked",
    "figure.holdings_objects": "Objects held",
    "figure.holdings_bytes": "Bytes held",
    "figure.holdings_copies": "Stored copies held",
    "figure.copies_within_cycle": "Copies checked within the cycle",
    "figure.holdings_pct_within_cycle": "% of copies checked within the cycle",
    "figure.objects_within_cycle": "Objects with every copy checked within the cycle",
    "figure.objects_pct_within_cycle": "% of objects with every copy checked within the cycle",
    "figure.failures": "Failures",
    "figure.failures_repaired": "Failures repaired",
    "figure.failures_moved_aside": "Unexpected files moved aside",
    "figure.failures_no_good_copy": "Failures with no good copy",
    "figure.failures_repair_off": "Failures not repaired (repair off)",
    "figure.failures_no_repair": "Failures with no repair attempted",
    "figure.open_incidents": "Open incidents",
    "col.detected_at": "Detected",
    "col.aip_id": "AIP",
    "col.label": "Title",
    "col.status": "Status",
    "col.version": "Version",
    "col.location": "Location",
    "col.path": "Path",
    "col.kind": "Problem",
    "col.code": "Code",
    "col.message": "Message",
    "col.repair": "Repair",
    "col.repaired_from": "Repaired from",
    "col.opened_at": "Opened",
    "col.run_id": "Audit run",
    "col.last_checked_at": "Last checked",
    "col.check_outcome": "Outcome",
    "col.within_cycle": "Within cycle",
    "col.started_at": "Started",
    "col.ended_at": "Ended",
    "col.trigger": "Trigger",
    "col.mode": "Mode",
    "col.copies_checked": "Copies",
    "col.bytes_checked": "Bytes",
    "col.failures": "Failures",
    "col.day": "Day",
    "col.id": "ID",
    "col.event_id": "PREMIS event",
    "col.aip_status": "AIP status",
    "col.copy_status": "Copy status",
    "col.files_checked": "Files",
    "col.repaired": "Repaired",
    "col.incidents": "Incidents",
    "col.could_not_check": "Could not check",
    "repair.repaired": "repaired",
    "repair.moved aside": "moved aside",
    "repair.no good copy": "no good copy",
    "repair.repair off": "repair off",
    "repair.none": "none",
    "kind.corrupt": "corrupt",
    "kind.missing": "missing",
    "kind.unexpected": "unexpected",
    "kind.manifest": "manifest",
    "outcome.passed": "passed",
    "outcome.repaired": "repaired",
    "outcome.failed": "failed",
    "outcome.could not check": "could not check",
    "state.stored": "stored",
    "state.damaged": "damaged, not repaired",
    "state.pending": "copy queued",
    "state.failed": "write failed",
    "finding.corrupt": "File {path} in location '{location}' is corrupt: its content differs from the "
    "recorded digest.",
    "finding.missing": "File {path} in location '{location}' is missing.",
    "finding.unexpected": "Unexpected file {path} in location '{location}' (not in the package inventory).",
    "finding.manifest": "The package inventory in location '{location}' is faulty: {path}.",
    "finding.unavailable": "The copy in location '{location}' could not be read.",
    "truncated": "Only {shown} of {total} are listed (limit [audit] report_max_rows); the summary's "
    "figures are complete. Choose a shorter period to see them all.",
    "times_note": "Dates and times are local time ({timezone}).",
}
"""Label texts by key (``report.<key>`` in the message catalogs); English, the fallback."""


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True)
class Labels:
    language: str

    def one(self, key: str, params: Mapping[str, Any] | None = None) -> str:
        default = ENGLISH.get(key, key)
        if params:
            default = default.format_map(_Blank(params))
        return Translator(self.language).text(f"report.{key}", params, default=default)

    def english(self, key: str) -> str | None:
        """The English text when it adds something (the page is not already in English)."""
        text = Translator("en").text(f"report.{key}", default=ENGLISH.get(key, key))
        return None if text == self.one(key) else text


__all__ = ["ENGLISH", "Labels"]
