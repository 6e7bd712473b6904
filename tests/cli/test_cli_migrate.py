"""Migration: a policy change reaches the holdings as new AIP versions, the old ones untouched.

One story per catalog backend, shared by the module: a DOCX from the format corpus and a TIFF are
ingested with normalization off, so the AIP holds originals only. ``kholuu migrate`` then makes
what the shipped policy asks for (a PDF/A-2b preservation copy of the DOCX by LibreOffice, a JPEG
access copy of the TIFF) as version 2; a second run has nothing to do. The data folder's policy
override then changes one PUID (the TIFF's access copy becomes PNG): the dry run lists exactly
that, and the migration replaces the JPEG in version 3, while versions 1 and 2 stay byte for byte
what they were.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from PIL import Image
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from preservation.fixity import digest_file
from repository.catalog.models import Event, File, FileRole
from tests.conftest import CORPUS, cli_env, module_catalog, run_cli, write_home_config

DOCX = CORPUS / "format-corpus" / "fully-featured-pdf" / "PDF-Sample-Document-Fully-Featured-Layout.docx"
PREMIS = "{http://www.loc.gov/premis/v3}"
TIFF_PNG = """
[formats."fmt/353".access]
tool = "image"
output_puid = "fmt/11"
output_extension = "png"
checks = ["opens", "format", "image"]
"""
JPEG = "representations/rep1-access/data/ảnh.tif.jpg"
PNG = "representations/rep1-access/data/ảnh.tif.png"
PDFA = "representations/rep1-preservation/data/Tờ trình.docx.pdf"


def _json(env: dict[str, str], *args: str, code: int = 0) -> Any:
    r = run_cli(*args, "--json", env=env)
    assert r.returncode == code, r.stdout + r.stderr
    return json.loads(r.stdout)


def tree_digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): digest_file(p).sha256 for p in folder.rglob("*") if p.is_file()}


def fetched(env: dict[str, str], aip_id: str, version: int, out: Path) -> dict[str, str]:
    """Version ``version`` as stored, copied out (and verified) by ``kholuu aip fetch``."""
    if out.exists():
        shutil.rmtree(out)
    result = _json(env, "aip", "fetch", aip_id, "--version", str(version), "--out", str(out))
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    assert result
    return tree_digests(folder)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def story(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("migrate")
    with module_catalog(request, root) as url:
        yield _story(root, url)


def _story(root: Path, url: str) -> dict[str, Any]:
    home = root / "home"
    write_home_config(home)  # normalization off: the AIP holds originals only
    env = cli_env(home, url)
    assert run_cli("init", env=env).returncode == 0
    sip = root / "sip"
    sip.mkdir()
    shutil.copyfile(DOCX, sip / "Tờ trình.docx")
    Image.new("RGB", (300, 200), (180, 40, 40)).save(sip / "ảnh.tif", dpi=(300, 300))
    aip_id = _json(env, "ingest", str(sip))["aip_id"]
    out: dict[str, Any] = {"env": env, "home": home, "aip_id": aip_id, "url": url}
    out["v1"] = fetched(env, aip_id, 1, root / "v1")
    out["plan1"] = _json(env, "migrate", "--dry-run")
    out["run1"] = _json(env, "migrate")
    out["v2"] = fetched(env, aip_id, 2, root / "v2")
    out["run_again"] = _json(env, "migrate")
    (home / "planning").mkdir()
    (home / "planning" / "formats.toml").write_text(TIFF_PNG, encoding="utf-8")
    out["plan2"] = _json(env, "migrate", "--dry-run")
    out["run2"] = _json(env, "migrate")
    out["v1_after"] = fetched(env, aip_id, 1, root / "v1")
    out["v2_after"] = fetched(env, aip_id, 2, root / "v2")
    out["v3"] = fetched(env, aip_id, 3, root / "v3")
    out["v3_folder"] = next(p for p in (root / "v3").iterdir() if p.is_dir())
    out["history"] = _json(env, "aip", "history", aip_id)
    engine = create_engine(url)
    with Session(engine) as s:
        out["files"] = {
            (f.version, f.aip_path): (f.role, f.derived_from, f.action, f.puid, f.uuid)
            for f in s.scalars(select(File).where(File.aip_id == aip_id))
        }
        out["events"] = [
            (e.outcome, e.outcome_detail, [a.agent.name for a in e.agents], e.in_package)
            for e in s.scalars(select(Event).where(Event.aip_id == aip_id, Event.type == "migration"))
        ]
    engine.dispose()
    return out


def _items(plan: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    return [
        (
            f["file"],
            f["puid"],
            f["purpose"],
            f"{f['action']['tool']} → {f['action']['output_puid']}",
            f["why"],
        )
        for aip in plan["plan"]["aips"]
        for f in aip["files"]
    ]


def test_the_dry_run_lists_what_the_policy_asks_and_changes_nothing(story: dict[str, Any]) -> None:
    assert story["plan1"]["dry_run"] is True and "results" not in story["plan1"]
    assert _items(story["plan1"]) == [
        ("Tờ trình.docx", "fmt/412", "preservation", "libreoffice → fmt/477", "format now at risk"),
        ("ảnh.tif", "fmt/353", "access", "image → fmt/43", "no copy"),
    ]
    assert story["plan1"]["plan"]["files"] == 2 and story["plan1"]["plan"]["bytes"] > 400_000
    # the policy change of one PUID: exactly that file, for that purpose, because the action changed
    (item,) = story["plan2"]["plan"]["aips"][0]["files"]
    assert (item["file"], item["purpose"], item["action"]["output_puid"], item["why"]) == (
        "ảnh.tif",
        "access",
        "fmt/11",
        "action changed",
    )
    assert item["replaces"] == [JPEG]


def test_migrate_makes_a_new_version_and_a_second_run_has_nothing_to_do(story: dict[str, Any]) -> None:
    (result,) = story["run1"]["results"]
    assert (result["from_version"], result["version"], result["status"]) == (1, 2, "stored")
    assert sorted(m["copy"] for m in result["made"]) == sorted([PDFA, JPEG])
    assert story["run1"]["ok"] and story["run1"]["failed"] == 0
    assert story["run_again"]["plan"]["files"] == 0 and story["run_again"]["results"] == []
    files = story["files"]
    docx = files[(2, "representations/rep1/data/Tờ trình.docx")]
    pdfa = files[(2, PDFA)]
    assert (pdfa[0], pdfa[1], pdfa[3]) == (FileRole.DERIVATIVE, docx[4], "fmt/477")
    assert pdfa[2]  # the action's fingerprint: the next policy change is measured against it


def test_the_policy_change_replaces_the_copy_and_earlier_versions_stay_byte_identical(
    story: dict[str, Any],
) -> None:
    (result,) = story["run2"]["results"]
    assert (result["from_version"], result["version"]) == (2, 3)
    assert [m["copy"] for m in result["made"]] == [PNG]
    assert story["v1_after"] == story["v1"]
    assert story["v2_after"] == story["v2"] and JPEG in story["v2"]
    assert PNG in story["v3"] and JPEG not in story["v3"] and PDFA in story["v3"]
    assert story["v3"][PDFA] == story["v2"][PDFA]  # untouched copies carry over
    tif = story["files"][(3, "representations/rep1/data/ảnh.tif")]
    png = story["files"][(3, PNG)]
    assert (png[1], png[3]) == (tif[4], "fmt/11")


def test_the_migration_events_name_the_tool_and_the_copy_links_its_source(story: dict[str, Any]) -> None:
    events = story["events"]
    assert len(events) == 3 and all(e[0] == "success" for e in events)
    tools = {name for e in events for name in e[2]}
    assert {"LibreOffice", "Pillow", "Kho Lưu"} <= tools
    replacing = next(e for e in events if "ảnh.tif.png" in e[1])
    assert f"replaces {JPEG} (kept in version 2)" in replacing[1]
    assert all(e[3] for e in events)  # each carried by the version it made
    folder: Path = story["v3_folder"]
    package = etree.parse(str(folder / "metadata/preservation/PREMIS.xml"))
    types = [e.findtext(f"{PREMIS}eventType") for e in package.iter(f"{PREMIS}event")]
    assert types.count("migration") == 3
    access = etree.parse(
        str(folder / "representations/rep1-access/metadata/preservation/PREMIS_rep1-access.xml")
    )
    (relationship,) = [
        r
        for r in access.iter(f"{PREMIS}relationship")
        if r.findtext(f"{PREMIS}relationshipType") == "derivation"
    ]
    assert relationship.findtext(f"{PREMIS}relationshipSubType") == "has source"
    tif_uuid = story["files"][(3, "representations/rep1/data/ảnh.tif")][4]
    assert relationship.findtext(f".//{PREMIS}relatedObjectIdentifierValue") == tif_uuid


def test_aip_history_shows_each_version_and_why(story: dict[str, Any]) -> None:
    versions = story["history"]["versions"]
    assert [(v["number"], v["workflow"], v["current"]) for v in versions] == [
        (1, "ingest", False),
        (2, "migration", False),
        (3, "migration", True),
    ]
    v2, v3 = versions[1], versions[2]
    assert "format now at risk" in v2["message"] and "no copy" in v2["message"]
    assert set(v2["changes"]["rep1-preservation"]["added"]) == {
        "representations/rep1-preservation/METS.xml",
        PDFA,
        "representations/rep1-preservation/metadata/preservation/PREMIS_rep1-preservation.xml",
    }
    assert v3["changes"]["rep1-access"]["replaced"] == [{"old": JPEG, "new": PNG}]
    assert "action changed" in v3["message"]
    (event,) = [e for e in v3["events"] if e["type"] == "migration"]
    assert event["agents"][0]["name"] == "Pillow" and event["detail_code"] == "planning.migrated.access"
    text = run_cli("--lang", "vi", "aip", "history", story["aip_id"], env=story["env"])
    assert text.returncode == 0, text.stderr
    assert (
        "thay [rep1-access]" in text.stdout and "tạo bản truy cập định dạng fmt/11 bằng Pillow" in text.stdout
    )


def test_the_migrated_aip_passes_verification_and_the_audit(story: dict[str, Any]) -> None:
    verified = _json(story["env"], "aip", "verify", story["aip_id"])
    assert (verified["ok"], verified["version"]) == (True, 3)
    audit = _json(story["env"], "audit", "--all")
    assert audit["passed"] == 1 and audit["failed"] == 0
