"""Issue 11 item 16 (last clause): PREMIS event details are language-neutral, shown translated.

An event keeps its English ``eventDetail`` for readers of the XML and gains a detail code with its
values; the catalog and the AIP's PREMIS both keep them, and ``aip show`` / ``job show`` render
them from the message catalogs (Vietnamese by default). Events recorded before codes existed show
their English detail. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from preservation.events import Agent, Event, EventType, Outcome
from preservation.premis_read import read_premis
from repository.catalog import store
from repository.catalog.db import make_engine, session_factory
from repository.i18n import Translator, codes, placeholders, template
from repository.settings import load_settings
from repository.storage.locations import open_locations
from tests.conftest import SAMPLES, cli_env, run_cli

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_PREMIS = "metadata/preservation/PREMIS.xml"
ENGLISH_AUDIT_DETAIL = "streamed and hashed"


def _json(env: dict[str, str], *args: str) -> Any:
    r = run_cli(*args, "--json", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def _fixity_events(shown: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in shown["events"] if e["type"] == "fixity check" and e["objects"] == [shown["aip_id"]]]


def test_an_audit_event_shows_in_vietnamese_and_its_code_reaches_the_aip(
    home: Path, database_url: str, tmp_path: Path
) -> None:
    env = cli_env(home, database_url, KHOLUU_LANG="vi")  # the archive's language (tests default to en)
    assert run_cli("init", env=env).returncode == 0
    ingested = _json(env, "ingest", str(SAMPLES / "sip-bag-cong-van"))
    aip_id = ingested["aip_id"]
    assert _json(env, "audit", "--all")["passed"] == 1

    shown = _json(env, "aip", "show", aip_id)
    (check,) = _fixity_events(shown)
    assert check["detail_code"] == "audit.fixity_passed"
    assert check["detail_params"]["location"] == "primary"
    assert int(check["detail_params"]["files"]) > 0
    assert ENGLISH_AUDIT_DETAIL in check["detail"]  # the English prose stays
    assert check["detail_text"].startswith("Kiểm tra toàn vẹn bản sao tại “primary”")
    assert f"{check['detail_params']['files']} tệp" in check["detail_text"]

    text = run_cli("aip", "show", aip_id, env=env)
    assert text.returncode == 0, text.stderr
    line = next(x for x in text.stdout.splitlines() if "fixity check" in x)
    assert "Kiểm tra toàn vẹn bản sao tại “primary”" in line and ENGLISH_AUDIT_DETAIL not in line
    english = run_cli("--lang", "en", "aip", "show", aip_id, env=env).stdout
    assert "Fixity audit of the copy in “primary”" in english

    job = _json(env, "job", "show", ingested["job_id"])
    (start,) = [e for e in job["events"] if e["type"] == "ingestion start"]
    assert start["detail_code"] == "ingest.started"
    assert start["detail_text"] == f"Bắt đầu tiếp nhận gói “sip-bag-cong-van” (phiên {ingested['job_id']})"
    job_text = run_cli("job", "show", ingested["job_id"], env=env).stdout
    assert "Bắt đầu tiếp nhận gói “sip-bag-cong-van”" in job_text

    # aip add-metadata carries the catalog-only audit event into v2's PREMIS, code and params too
    meta = tmp_path / "muc-luc.txt"
    meta.write_text("mục lục hồ sơ", encoding="utf-8")
    assert run_cli("aip", "add-metadata", aip_id, str(meta), env=env).returncode == 0
    (location,) = open_locations(load_settings(home, environ=env))
    with location.store.open_file(aip_id, PACKAGE_PREMIS, 2) as fh:
        data = fh.read()
    assert b"https://kholuu.vn/ns/premis-ext/1" in data
    in_v2 = {e.identifier: e for e in read_premis(data, PACKAGE_PREMIS).to_events()}
    carried = in_v2[check["identifier"]]
    assert carried.detail_code == "audit.fixity_passed"
    assert dict(carried.detail_params) == check["detail_params"]
    (added,) = [e for e in in_v2.values() if e.type is EventType.METADATA_MODIFICATION]
    assert added.detail_code in {"update.metadata_added", "update.metadata_added_facts"}


def test_an_event_without_a_code_shows_its_english_detail(home: Path, database_url: str) -> None:
    env = cli_env(home, database_url, KHOLUU_LANG="vi")
    assert run_cli("init", env=env).returncode == 0
    aip_id = _json(env, "ingest", str(SAMPLES / "sip-bag-cong-van"))["aip_id"]
    old = Event(
        type=EventType.FIXITY_CHECK,
        outcome=Outcome.SUCCESS,
        detail="Every file of the copy re-read (recorded before detail codes)",
        agents=(Agent("kholuu", "0.9"),),
        objects=(aip_id,),
    )
    engine = make_engine(database_url)
    try:
        with session_factory(engine).begin() as session:
            store.add_events(session, [old], aip_id=aip_id)
    finally:
        engine.dispose()

    shown = _json(env, "aip", "show", aip_id)
    (row,) = [e for e in shown["events"] if e["identifier"] == old.identifier]
    assert (row["detail_code"], row["detail_params"]) == ("", {})
    assert row["detail_text"] == old.detail
    text = run_cli("aip", "show", aip_id, env=env).stdout
    assert "Every file of the copy re-read (recorded before detail codes)" in text


_LITERAL = re.compile(r""""([a-z0-9_]+\.[a-z0-9_.]+)\"""")


def test_every_event_detail_code_has_texts_with_the_same_placeholders() -> None:
    """Every code an ``Event(detail_code=...)`` can take has a text in both languages."""
    used: set[str] = set()
    for package in ("preservation", "repository", "workflows"):
        for path in (ROOT / package).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            used.update(re.findall(r'detail_code=(?:f?)"([a-z0-9_.]+)"', source))
            for block in re.findall(r"_FIXITY_CODES = \{(.*?)\}", source, re.DOTALL):
                used.update(_LITERAL.findall(block))
            for expression in re.findall(r"detail_code=\(?\{(.*?)\}", source, re.DOTALL):
                used.update(_LITERAL.findall(expression))
            used.update(
                re.findall(r'(?:\}|_FIXITY_CODES)\.get\(\s*[^,)]+,\s*"([a-z0-9_]+\.[a-z0-9_.]+)"\)', source)
            )
            for ternary in re.findall(r'detail_code=(".*? if .*)', source):  # chained ternaries too
                used.update(_LITERAL.findall(ternary))
    used.update({"repair.replaced_corrupt", "repair.replaced_missing"})  # built from the damage kind
    assert {"audit.fixity_passed", "verify.fixity_failed", "ingest.accession", "fetch.copied_out"} <= used
    for code in sorted(used):
        vi, en = template(f"event.{code}", "vi"), template(f"event.{code}", "en")
        assert vi is not None and en is not None, code
        assert placeholders(vi) == placeholders(en), code
    assert {c for c in codes("vi") if c.startswith("event.")} == {f"event.{c}" for c in used}  # none unused
    assert Translator("vi").event_detail("", {}, "English only") == "English only"
