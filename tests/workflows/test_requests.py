"""Dissemination requests through the workflow (SQLite and PostgreSQL): the state machine and each
refusal, the DIP built as a job and downloaded once, the undescribed AIP that needs a decision
number, expiry, and the PREMIS events naming the deciding user."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from preservation.tt05.model import doc_code
from repository.actor import Actor, Channel, Role
from repository.catalog.models import Event, Job
from repository.catalog.requests import DisseminationRequest, RequestStatus
from repository.settings import SettingsError, load_settings
from tests import dip_requests
from tests.dip_requests import FILE_CODE, OPEN_PDF, Stored
from workflows.access import request_build, requests
from workflows.access.errors import RequestError
from workflows.access.requests import RequestForm

PUBLIC = Actor(name="", role=Role.PUBLIC, channel=Channel.WEB, address="203.0.113.7")
READER_SERVICES = Actor(name="doc.gia", role=Role.READER_SERVICES, channel=Channel.WEB)
AUDITOR = Actor(name="kiem.toan", role=Role.AUDITOR, channel=Channel.WEB)
DECISION = "27/QĐ-TTLT"


request_folders, stored = dip_requests.request_folders, dip_requests.stored  # the fixtures


def form(target: str, **extra: Any) -> RequestForm:
    values: dict[str, Any] = {
        "requester_name": "Nguyễn Thị Hoa",
        "requester_contact": "hoa@example.vn",
        "target": target,
        "purpose": "02",
        "purpose_content": "Nghiên cứu lịch sử trụ sở",
    }
    return RequestForm(**(values | extra))


def now() -> datetime:
    return datetime.now(UTC)


def submit(stored: Stored, target: str, actor: Actor = PUBLIC, **extra: Any) -> requests.Submitted:
    with stored.sessions.begin() as s:
        return requests.submit(s, form(target, **extra), actor, now=now())


def approve(stored: Stored, request_id: str, actor: Actor = READER_SERVICES, decision: str = "") -> None:
    with stored.sessions.begin() as s:
        requests.approve(s, request_id, actor, decision=decision, now=now())


def built_long_ago(stored: Stored) -> tuple[requests.Submitted, request_build.Built]:
    """A request of the described AIP, approved, its DIP built a link lifetime ago (link expired)."""
    done = submit(stored, stored.aips.described)
    approve(stored, done.request_id)
    long_ago = now() - timedelta(hours=stored.settings.access.dip_link_hours + 1)
    return done, request_build.build(
        stored.settings, stored.sessions, done.request_id, READER_SERVICES, now=long_ago
    )


def row(stored: Stored, request_id: str) -> DisseminationRequest:
    with stored.sessions() as s:
        found = s.get(DisseminationRequest, request_id)
        assert found is not None
        s.expunge(found)
        return found


def events(stored: Stored, aip_id: str) -> dict[str, Event]:
    with stored.sessions() as s:
        rows = s.scalars(select(Event).where(Event.aip_id == aip_id, Event.type == "dissemination")).all()
        return {str(e.detail_code): e for e in rows}


def persons(event: Event) -> list[str]:
    return [a.agent.name for a in event.agents if a.agent.type == "person"]


def test_a_public_request_is_approved_built_downloaded_once_and_each_step_is_an_event(stored: Stored) -> None:
    aip_id = stored.aips.described
    done = submit(stored, FILE_CODE, record_codes=[FILE_CODE])  # the hồ sơ: every document that may leave
    assert done.aip_id == aip_id and done.request_id.startswith("YC-")
    first = row(stored, done.request_id)
    assert first.status is RequestStatus.SUBMITTED and first.submitted_by == "" and first.user_id is None
    assert first.follow_key_hash == requests.secret_hash(done.follow_key) != done.follow_key
    assert first.purpose == "02" and first.record_codes == [FILE_CODE]

    with pytest.raises(RequestError) as no_role:  # an auditor reads, decides nothing
        approve(stored, done.request_id, AUDITOR)
    assert no_role.value.code == "request.not_allowed"
    approve(stored, done.request_id)
    with pytest.raises(RequestError) as twice:
        approve(stored, done.request_id)
    assert (twice.value.code, twice.value.params["status"]) == ("request.wrong_state", "approved")
    with pytest.raises(RequestError) as late, stored.sessions.begin() as s:
        requests.refuse(s, done.request_id, READER_SERVICES, reason="muộn", now=now())
    assert late.value.code == "request.wrong_state"

    built = request_build.build(stored.settings, stored.sessions, done.request_id, READER_SERVICES)
    assert built.path == stored.home / "dips" / f"{done.request_id}.zip" and built.path.is_file()
    with zipfile.ZipFile(built.path) as zf:
        names = zf.namelist()
    assert any(n.endswith("/documentation/muc-luc.html") for n in names)
    assert [n.rsplit("/", 1)[1] for n in names if "/data/" in n] == [OPEN_PDF]  # 01 only: no decision
    ready = row(stored, done.request_id)
    assert ready.status is RequestStatus.READY and ready.token_hash == requests.secret_hash(built.token)
    assert ready.decided_by == "doc.gia" and ready.dip_bytes == built.path.stat().st_size
    assert ready.expires_at is not None and ready.built_at is not None
    assert ready.expires_at - ready.built_at == timedelta(hours=stored.settings.access.dip_link_hours)
    with stored.sessions() as s:
        job = s.get(Job, built.job_id)
        assert job is not None and job.status.value == "completed"

    with pytest.raises(RequestError) as wrong, stored.sessions() as s:
        request_build.open_download(s, "not-the-token", now=now())
    assert wrong.value.code == "request.link_unknown"
    with stored.sessions() as s:
        found = request_build.open_download(s, built.token, now=now())
    assert found.path == built.path and found.size == built.bytes
    assert request_build.complete_download(stored.sessions, done.request_id, now=now()) is True
    assert request_build.complete_download(stored.sessions, done.request_id, now=now()) is False  # once
    with pytest.raises(RequestError) as second, stored.sessions() as s:
        request_build.open_download(s, built.token, now=now())
    assert second.value.code == "request.link_used"
    assert row(stored, done.request_id).download_count == 1

    seen = events(stored, aip_id)
    assert {"request.submitted", "request.approved", "dip.public", "request.downloaded"} <= set(seen)
    assert persons(seen["request.approved"]) == ["doc.gia"]  # the approving user, a PREMIS person
    assert persons(seen["dip.public"]) == ["doc.gia"]
    assert persons(seen["request.submitted"]) == []  # the public reader is not an agent
    approved = seen["request.approved"].detail_params
    assert approved == {"request": done.request_id, "by": "doc.gia", "decision": ""}


def test_refusal_needs_its_reason_and_names_who_refused(stored: Stored) -> None:
    done = submit(stored, stored.aips.described)
    for reason in ("", "   "):
        with pytest.raises(RequestError) as empty, stored.sessions.begin() as s:
            requests.refuse(s, done.request_id, READER_SERVICES, reason=reason, now=now())
        assert empty.value.code == "request.reason_required"
    assert row(stored, done.request_id).status is RequestStatus.SUBMITTED
    with stored.sessions.begin() as s:
        requests.refuse(s, done.request_id, READER_SERVICES, reason="Tài liệu đang tu bổ", now=now())
    refused_row = row(stored, done.request_id)
    assert (refused_row.status, refused_row.reason) == (RequestStatus.REFUSED, "Tài liệu đang tu bổ")
    with pytest.raises(RequestError) as after:
        approve(stored, done.request_id)
    assert after.value.code == "request.wrong_state"
    with pytest.raises(RequestError) as no_build:
        request_build.build(stored.settings, stored.sessions, done.request_id, READER_SERVICES)
    assert no_build.value.code == "request.wrong_state"
    event = events(stored, stored.aips.described)["request.refused"]
    assert persons(event) == ["doc.gia"] and event.detail_params is not None
    assert event.detail_params["reason"] == "Tài liệu đang tu bổ"


def test_an_undescribed_aip_is_staff_only_and_needs_the_decision_number(stored: Stored) -> None:
    aip_id = stored.aips.undescribed
    for target in (aip_id, "uuid-00000000-0000-0000-0000-000000000000", "no-such-code"):
        with pytest.raises(RequestError) as public:
            submit(stored, target)
        assert public.value.code == "request.not_public"  # the same answer: nothing revealed
    with pytest.raises(RequestError) as unknown:
        submit(stored, "no-such-code", READER_SERVICES)
    assert unknown.value.code == "request.target_unknown"

    done = submit(stored, aip_id, READER_SERVICES)
    assert row(stored, done.request_id).submitted_by == "doc.gia"
    with pytest.raises(RequestError) as missing:
        approve(stored, done.request_id)
    assert missing.value.code == "request.decision_required"
    assert row(stored, done.request_id).status is RequestStatus.SUBMITTED
    approve(stored, done.request_id, decision=DECISION)
    built = request_build.build(stored.settings, stored.sessions, done.request_id, READER_SERVICES)
    with zipfile.ZipFile(built.path) as zf:
        assert any(n.endswith("/documentation/muc-luc.html") for n in zf.namelist())
    seen = events(stored, aip_id)
    assert seen["request.approved_decision"].detail_params == {
        "request": done.request_id,
        "by": "doc.gia",
        "decision": DECISION,
    }
    assert "dip.whole" in seen and persons(seen["dip.whole"]) == ["doc.gia"]


def test_the_conditional_records_need_the_decision_and_a_bad_request_is_refused(stored: Stored) -> None:
    with pytest.raises(Exception) as bad:
        submit(stored, stored.aips.described, purpose="09")
    assert getattr(bad.value, "code", "") == "export.bad_request"
    with pytest.raises(RequestError) as blank:
        submit(stored, stored.aips.described, requester_name=" ")
    assert (blank.value.code, blank.value.params) == ("request.field_required", {"field": "requester_name"})
    done = submit(stored, stored.aips.described)
    approve(stored, done.request_id, decision=DECISION)
    built = request_build.build(stored.settings, stored.sessions, done.request_id, READER_SERVICES)
    with zipfile.ZipFile(built.path) as zf:
        released = sorted(n.rsplit("/", 1)[1] for n in zf.namelist() if "/data/" in n)
    assert len(released) == 2 and OPEN_PDF in released  # 01 and 02; never 03 nor the listed one


def test_the_documents_a_request_names_are_all_it_releases(stored: Stored) -> None:
    conditional = submit(stored, stored.aips.described, record_codes=[doc_code(FILE_CODE, 2)])
    with pytest.raises(RequestError) as needs:  # document 2 is Sử dụng có điều kiện
        approve(stored, conditional.request_id)
    assert needs.value.code == "request.decision_required"
    approve(stored, conditional.request_id, decision=DECISION)
    built = request_build.build(stored.settings, stored.sessions, conditional.request_id, READER_SERVICES)
    with zipfile.ZipFile(built.path) as zf:
        released = [n.rsplit("/", 1)[1] for n in zf.namelist() if "/data/" in n]
    assert len(released) == 1 and OPEN_PDF not in released  # document 2 alone, not the open one
    secret = submit(stored, stored.aips.described, READER_SERVICES, record_codes=[doc_code(FILE_CODE, 3)])
    with pytest.raises(RequestError) as nothing:  # Mật: never, whatever the decision
        approve(stored, secret.request_id, decision=DECISION)
    assert nothing.value.code == "request.nothing_to_release"


def test_an_expired_link_is_refused_and_expire_deletes_the_dip(stored: Stored) -> None:
    done, built = built_long_ago(stored)
    with pytest.raises(RequestError) as late, stored.sessions() as s:
        request_build.open_download(s, built.token, now=now())
    assert late.value.code == "request.link_expired"
    with pytest.raises(RequestError) as relink, stored.sessions.begin() as s:
        request_build.issue_link(s, done.request_id, now=now())
    assert relink.value.code == "request.link_expired"

    result = request_build.expire(stored.sessions, now=now())
    assert result == request_build.Expired((done.request_id,), (done.request_id,))
    assert not built.path.exists() and row(stored, done.request_id).status is RequestStatus.EXPIRED
    assert "request.expired" in events(stored, stored.aips.described)

    other = submit(stored, stored.aips.described)  # downloaded: its ZIP goes at the next sweep
    approve(stored, other.request_id)
    kept = request_build.build(stored.settings, stored.sessions, other.request_id, READER_SERVICES)
    assert request_build.complete_download(stored.sessions, other.request_id, now=now())
    assert kept.path.is_file()
    assert request_build.expire(stored.sessions, now=now()) == request_build.Expired((), (other.request_id,))
    assert not kept.path.exists() and row(stored, other.request_id).status is RequestStatus.DOWNLOADED
    assert request_build.expire(stored.sessions, now=now()) == request_build.Expired((), ())


def test_every_build_sweeps_the_expired_and_a_dead_build_may_be_built_again(stored: Stored) -> None:
    stale, old = built_long_ago(stored)

    dead = submit(stored, stored.aips.described)
    approve(stored, dead.request_id)
    with stored.sessions.begin() as s:  # a build claimed just now whose job is starting: left alone
        claimed = s.get(DisseminationRequest, dead.request_id)
        assert claimed is not None
        claimed.status, claimed.job_id = RequestStatus.BUILDING, "00000000-0000-0000-0000-000000000000"
        claimed.updated_at = now()
    with pytest.raises(RequestError) as busy:
        request_build.build(stored.settings, stored.sessions, dead.request_id, READER_SERVICES)
    assert (busy.value.code, busy.value.params["status"]) == ("request.wrong_state", "building")
    with stored.sessions.begin() as s:  # ... but one whose process died before its job row was written
        claimed = s.get(DisseminationRequest, dead.request_id)
        assert claimed is not None
        claimed.updated_at = now() - request_build.CLAIM_GRACE - timedelta(seconds=1)
    built = request_build.build(stored.settings, stored.sessions, dead.request_id, READER_SERVICES)
    assert built.path.is_file() and row(stored, dead.request_id).status is RequestStatus.READY
    assert row(stored, stale.request_id).status is RequestStatus.EXPIRED and not old.path.exists()


def test_a_new_link_replaces_the_old_one(stored: Stored) -> None:
    done = submit(stored, stored.aips.described)
    approve(stored, done.request_id)
    built = request_build.build(stored.settings, stored.sessions, done.request_id, READER_SERVICES)
    with stored.sessions.begin() as s:
        token, expires = request_build.issue_link(s, done.request_id, now=now())
    assert token != built.token and expires == built.expires_at
    with pytest.raises(RequestError) as old, stored.sessions() as s:
        request_build.open_download(s, built.token, now=now())
    assert old.value.code == "request.link_unknown"
    with stored.sessions() as s:
        assert request_build.open_download(s, token, now=now()).request_id == done.request_id


def test_the_link_lifetime_is_a_setting_of_at_least_an_hour(stored: Stored) -> None:
    assert stored.settings.access.dip_link_hours == 72  # the shipped default
    environ = {"KHOLUU_ACCESS__DIP_LINK_HOURS": "2", "KHOLUU_DATABASE_URL": stored.database_url}
    shorter = load_settings(stored.home, environ=environ)
    assert shorter.access.dip_link_hours == 2
    with pytest.raises(SettingsError, match=r"access\.dip_link_hours"):
        load_settings(stored.home, environ={}, overrides={"access": {"dip_link_hours": 0}})
