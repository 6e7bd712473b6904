"""Alerts after an audit: failures and open incidents as structured log records, and by e-mail.

A failed copy nobody hears about is a failed copy nobody repairs. Every audit that found damage or
could not check a location logs one structured record (logger ``kholuu.alerts``, the fields in
``extra["kholuu"]``, for whatever collects logs). When ``[alerts]`` names an SMTP host and
recipients, the same summary, with every open incident, goes out as one plain-text e-mail in
Vietnamese and English. A mail server that is down is logged, never raised: the audit's records
in the catalog are the durable truth, the e-mail is a courtesy.
"""

from __future__ import annotations

import logging
import os
import smtplib
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from preservation.findings import CheckOutcome
from repository.catalog.models import Incident
from repository.settings import Settings
from workflows.custody.audit_report import AuditReport

log = logging.getLogger("kholuu.alerts")


def alert_summary(sessions: sessionmaker[Session], report: AuditReport) -> dict[str, Any] | None:
    """What deserves an alert, or None when the audit found nothing wrong and nothing is open."""
    with sessions() as session:
        open_incidents = [
            {"id": i.id, "aip_id": i.aip_id, "location": i.location, "path": i.path, "kind": i.kind}
            for i in session.scalars(select(Incident).where(Incident.status == "open").order_by(Incident.id))
        ]
    bad = [c.as_dict() for c in report.copies if c.outcome is not CheckOutcome.PASSED]
    if not bad and not open_incidents:
        return None
    return {
        "run_id": report.run_id,
        "copies_checked": len(report.copies),
        "repaired": report.count(CheckOutcome.REPAIRED),
        "failed": report.count(CheckOutcome.FAILED),
        "could_not_check": report.count(CheckOutcome.COULD_NOT_CHECK),
        "copies": bad,
        "open_incidents": open_incidents,
    }


def send_alerts(
    settings: Settings, sessions: sessionmaker[Session], report: AuditReport
) -> dict[str, Any] | None:
    summary = alert_summary(sessions, report)
    if summary is None:
        return None
    log.warning(
        "fixity audit %s: %d repaired, %d failed, %d could not check, %d open incidents",
        summary["run_id"],
        summary["repaired"],
        summary["failed"],
        summary["could_not_check"],
        len(summary["open_incidents"]),
        extra={"kholuu": {"event": "fixity_alert", **summary}},
    )
    alerts = settings.alerts
    if alerts.smtp_host and alerts.mail_to:
        try:
            _mail(settings, summary)
        except (OSError, smtplib.SMTPException) as exc:
            log.error("alert e-mail to %s failed: %s", ", ".join(alerts.mail_to), exc)
            summary["mail_error"] = str(exc)
        else:
            summary["mailed_to"] = list(alerts.mail_to)
    return summary


def _mail(settings: Settings, summary: dict[str, Any]) -> None:
    alerts = settings.alerts
    message = EmailMessage()
    archive = settings.archive.name or "Kho Lưu"
    message["Subject"] = (
        f"[{archive}] Kiểm tra toàn vẹn / fixity audit: {summary['failed']} lỗi chưa sửa / failed, "
        f"{summary['repaired']} đã sửa / repaired, {len(summary['open_incidents'])} sự cố mở / open incidents"
    )
    message["From"] = alerts.mail_from or f"kholuu@{alerts.smtp_host}"
    message["To"] = ", ".join(alerts.mail_to)
    lines = [
        f"Lần kiểm tra / audit run: {summary['run_id']}",
        f"Bản sao đã kiểm tra / copies checked: {summary['copies_checked']}",
        f"Đã sửa / repaired: {summary['repaired']}",
        f"Lỗi chưa sửa được / failed: {summary['failed']}",
        f"Không kiểm tra được / could not check: {summary['could_not_check']}",
        "",
    ]
    for copy in summary["copies"]:
        lines.append(f"- {copy['aip_id']} v{copy['version']} @ {copy['location']}: {copy['outcome']}")
        lines.extend(f"    {p['kind']} {p['path']}: {p.get('repair', '')}" for p in copy["problems"])
    if summary["open_incidents"]:
        lines += ["", "Sự cố đang mở / open incidents (kholuu incident list):"]
        lines.extend(
            f"- #{i['id']} {i['aip_id']} @ {i['location']}: {i['kind']} {i['path']}"
            for i in summary["open_incidents"]
        )
    message.set_content("\n".join(lines))
    with smtplib.SMTP(alerts.smtp_host, alerts.smtp_port, timeout=alerts.timeout_seconds) as smtp:
        if alerts.smtp_starttls:
            smtp.starttls()
        if alerts.smtp_username:
            smtp.login(alerts.smtp_username, os.environ.get(alerts.smtp_password_env, ""))
        smtp.send_message(message)
