"""Normalization at ingest: each file gets the copies its format policy names, verified, linked to
its source in PREMIS; a failed or timed-out conversion keeps the original and says why.

One real ingest per database backend, shared by the module. Its submission: a DOCX from the format
corpus (LibreOffice makes the PDF/A-2b preservation copy, which also serves readers), a TIFF made
here (Pillow makes the JPEG access copy; TIFF itself is accepted under TT 05), a WAV made with
FFmpeg whose access action the data folder's policy override replaces by a program that fails, and
a PNG whose access action the override replaces by a program that never finishes (time limit 1 s).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from lxml import etree
from PIL import Image
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from repository.catalog.file_text import FileText
from repository.catalog.models import Event, File, FileRole, JobError
from tests.conftest import (
    CORPUS,
    SAMPLES,
    HeadSchema,
    another_database,
    cli_env,
    module_catalog,
    run_cli,
    write_home_config,
)

DOCX = CORPUS / "format-corpus" / "fully-featured-pdf" / "PDF-Sample-Document-Fully-Featured-Layout.docx"
PREMIS = "{http://www.loc.gov/premis/v3}"

FAILING = 'import sys; sys.stderr.write("converter broke: no codec for this file\\n"); sys.exit(3)'
HANGING = "import time; time.sleep(60)"


def override(root: Path) -> str:
    """The data folder's policy override: WAV's access copy by a failing program, PNG's by a
    hanging one, and the TT 05 resolution floors raised to 400 dpi (the TIFF below has 300)."""
    return f"""
[parameters]
photo_dpi = 400
text_dpi = 400

[formats."fmt/141".access]
tool = "command"
output_puid = "fmt/134"
output_extension = "mp3"
args = ['{sys.executable}', '-c', '{FAILING}', '{{input}}', '{{output}}']
checks = ["opens"]
timeout = 30.0

[formats."fmt/11".access]
tool = "command"
output_puid = "fmt/43"
output_extension = "jpg"
args = ['{sys.executable}', '-c', '{HANGING}', '{{input}}', '{{output}}']
checks = ["opens"]
timeout = 1.0
"""


def make_sip(folder: Path) -> Path:
    folder.mkdir(parents=True)
    shutil.copyfile(DOCX, folder / "Tờ trình.docx")
    Image.new("RGB", (300, 200), (180, 40, 40)).save(folder / "ảnh.tif", dpi=(300, 300))
    Image.new("RGB", (60, 40), (0, 90, 0)).save(folder / "logo.png")
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=2",
            str(folder / "ghi âm.wav"),
        ],
        check=True,
    )
    return folder


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def ingested(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("normalize")
    with module_catalog(request, root) as url:
        yield _ingest(root, url)


def _ingest(root: Path, url: str) -> dict[str, Any]:
    home = root / "home"
    write_home_config(home, normalize=True)
    (home / "planning").mkdir()
    (home / "planning" / "formats.toml").write_text(override(root), encoding="utf-8")
    env = cli_env(home, url)
    assert run_cli("init", "--json", env=env).returncode == 0
    r = run_cli("ingest", str(make_sip(root / "sip")), "--json", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    result = json.loads(r.stdout)
    engine = create_engine(url)
    with Session(engine) as s:
        files = {f.aip_path: f for f in s.scalars(select(File).where(File.aip_id == result["aip_id"]))}
        events = list(s.scalars(select(Event).where(Event.type == "normalization")))
        errors = list(s.scalars(select(JobError).where(JobError.job_id == result["job_id"])))
        facts = {
            "files": {
                p: (f.role, f.representation, f.puid, f.derived_from, f.action, f.uuid)
                for p, f in files.items()
            },
            "characteristics": {p: f.characteristics for p, f in files.items()},
            "events": [(e.outcome, e.outcome_detail, e.detail) for e in events],
            "errors": [(e.code, e.path, e.tool, e.stderr, e.params) for e in errors],
        }
    engine.dispose()
    return {"env": env, "home": home, "result": result, **facts}


def rep_path(rep: str, name: str) -> str:
    return f"representations/{rep}/data/{name}"


def test_each_file_gets_what_its_policy_names(ingested: dict[str, Any]) -> None:
    files = ingested["files"]
    originals = {p: v for p, v in files.items() if v[0] is FileRole.ORIGINAL}
    derivatives = {p: v for p, v in files.items() if v[0] is FileRole.DERIVATIVE}
    assert len(originals) == 4
    assert ingested["result"]["files"] == 4  # the report counts what was submitted
    docx = files[rep_path("rep1", "Tờ trình.docx")]
    tif = files[rep_path("rep1", "ảnh.tif")]
    # the DOCX: one PDF/A-2b preservation copy, no second PDF for access (it serves both)
    pdfa = derivatives[rep_path("rep1-preservation", "Tờ trình.docx.pdf")]
    assert (pdfa[1], pdfa[2], pdfa[3]) == ("rep1-preservation", "fmt/477", docx[5])
    assert pdfa[4]  # the action's fingerprint, for migration
    assert rep_path("rep1-access", "Tờ trình.docx.pdf") not in files
    # the TIFF is accepted under TT 05: no preservation copy, a JPEG access copy
    jpeg = derivatives[rep_path("rep1-access", "ảnh.tif.jpg")]
    assert (jpeg[2], jpeg[3]) == ("fmt/43", tif[5])
    assert not any(p.startswith("representations/rep1-preservation/data/ảnh") for p in files)
    assert set(derivatives) == {
        rep_path("rep1-preservation", "Tờ trình.docx.pdf"),
        rep_path("rep1-access", "ảnh.tif.jpg"),
    }
    assert ingested["result"]["derivatives"] == 2


def test_a_failed_and_a_timed_out_conversion_keep_the_original_and_say_why(ingested: dict[str, Any]) -> None:
    files = ingested["files"]
    assert rep_path("rep1", "ghi âm.wav") in files and rep_path("rep1", "logo.png") in files
    failed = {c["file"]: c for c in ingested["result"]["conversions_failed"]}
    assert failed["ghi âm.wav"]["outcome"] == "failed"
    assert "converter broke" in failed["ghi âm.wav"]["stderr"]
    assert failed["logo.png"]["outcome"] == "timed out"
    errors = {e[1]: e for e in ingested["errors"]}
    assert errors["ghi âm.wav"][0] == "planning.conversion_failed"
    assert "converter broke" in (errors["ghi âm.wav"][3] or "")
    assert errors["logo.png"][4]["outcome"] == "timed out"
    outcomes = sorted(e[0] for e in ingested["events"])
    assert outcomes.count("failure") == 2 and outcomes.count("success") == 2
    # kholuu job show lists both, with the tool's own words
    shown = run_cli("job", "show", ingested["result"]["job_id"], env=ingested["env"])
    assert shown.returncode == 0
    assert "converter broke" in shown.stdout and "logo.png" in shown.stdout


def test_the_stored_premis_links_each_copy_to_its_source_with_the_tool(ingested: dict[str, Any]) -> None:
    home: Path = ingested["home"]
    aip = ingested["result"]["aip_id"]
    premis_files = list((home / "storage").rglob("PREMIS_rep1-preservation.xml"))
    premis_files = [p for p in premis_files if aip in str(p)]
    assert premis_files, "the preservation representation has its PREMIS"
    tree = etree.parse(str(premis_files[-1]))
    docx_uuid = ingested["files"][rep_path("rep1", "Tờ trình.docx")][5]
    rels = tree.findall(f".//{PREMIS}relationship")
    derivation = [r for r in rels if r.findtext(f"{PREMIS}relationshipType") == "derivation"]
    assert derivation and derivation[0].findtext(f"{PREMIS}relationshipSubType") == "has source"
    assert derivation[0].findtext(f".//{PREMIS}relatedObjectIdentifierValue") == docx_uuid
    root_premis = [p for p in (home / "storage").rglob("PREMIS*.xml") if aip in str(p)]
    text = "".join(p.read_text(encoding="utf-8") for p in root_premis)
    assert "normalization" in text and "LibreOffice" in text


def test_the_override_parameters_reach_validation(ingested: dict[str, Any]) -> None:
    """400 dpi floors in the data folder's policy: the 300 dpi TIFF is reported below them."""
    chars = ingested["characteristics"][rep_path("rep1", "ảnh.tif")]
    props = next(c["properties"] for c in chars if "tt05_resolution" in c["properties"])
    assert props["tt05_resolution"] == "below"
    assert 400 in props.values()


def test_normalization_off_stores_originals_only(tmp_path: Path, database_url: str) -> None:
    home = tmp_path / "home"
    write_home_config(home)  # normalize = false
    env = cli_env(home, database_url)
    assert run_cli("init", "--json", env=env).returncode == 0
    sip = tmp_path / "sip"
    sip.mkdir()
    Image.new("RGB", (30, 20), (1, 2, 3)).save(sip / "a.tif")
    r = run_cli("ingest", str(sip), "--json", env=env)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["derivatives"] == 0 and out["conversions_failed"] == []


def test_a_dip_gives_readers_the_copies_made_for_them_with_a_vietnamese_index(
    tmp_path: Path, database_url: str
) -> None:
    """The TT 05 sample's PDFs get PDF/A copies and its photo a JPEG at ingest; its DIP carries
    those, not the originals, and documentation/muc-luc.html lists each released document."""
    home = tmp_path / "home"
    write_home_config(home, normalize=True)
    env = cli_env(home, database_url)
    assert run_cli("init", "--json", env=env).returncode == 0
    r = run_cli("ingest", str(SAMPLES / "sip-tt05-hoso-so-hoa.zip"), "--json", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    aip = json.loads(r.stdout)["aip_id"]
    out = tmp_path / "dip.zip"
    args = ("--request-id", "YC-1", "--request-date", "07/12/2026", "--purpose", "01")
    r = run_cli("export", aip, "--format", "tt05-dip", "--out", str(out), *args, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        data = [n for n in names if "/data/" in n]
        # readers get the copies made for them: PDF/A for the PDFs, a JPEG for the PNG photo
        assert data and not any("/representations/rep1/" in n for n in data)
        assert any(n.endswith(".pdf.pdf") and "/rep1-preservation/" in n for n in data)
        assert any(n.endswith(".png.jpg") and "/rep1-access/" in n for n in data)
        index = zf.read(next(n for n in names if n.endswith("documentation/muc-luc.html"))).decode("utf-8")
    assert 'lang="vi"' in index and "Mục lục gói thông tin truy cập" in index
    for n in data:
        assert "../" + n.split("/", 1)[1] in unquote(index)


def test_an_undescribed_aip_is_released_whole_only_under_a_decision(
    ingested: dict[str, Any], tmp_path: Path
) -> None:
    """The folder SIP has no TT 05 descriptions: its DIP is refused without the archive's
    decision, naming why and what to add; with it, every original's reader's copy goes (the PDF/A
    of the DOCX, the JPEG of the TIFF; the WAV and PNG whose conversions failed go as they are)."""
    env, aip = ingested["env"], ingested["result"]["aip_id"]
    out = tmp_path / "dip.zip"
    args = ("--request-id", "YC-2", "--request-date", "07/12/2026", "--purpose", "01", "--json")
    r = run_cli("export", aip, "--format", "tt05-dip", "--out", str(out), *args, env=env)
    error = json.loads(r.stdout)["error"]
    assert r.returncode != 0 and error["code"] == "export.undescribed_needs_approval"
    assert "--approved-conditional" in error["message"] and not out.exists()

    r = run_cli(
        "export", aip, "--format", "tt05-dip", "--out", str(out), *args,
        "--approved-conditional", "QĐ 12/QĐ-LTLS", env=env,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["whole_aip"] is True
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        data = sorted(n.split("/representations/", 1)[1] for n in names if "/data/" in n)
        index = unquote(zf.read(next(n for n in names if n.endswith("muc-luc.html"))).decode("utf-8"))
        premis = zf.read(next(n for n in names if n.endswith("metadata/preservation/PREMIS.xml")))
    assert data == [
        "rep1-access/data/ảnh.tif.jpg",
        "rep1-preservation/data/Tờ trình.docx.pdf",
        "rep1/data/ghi âm.wav",
        "rep1/data/logo.png",
    ], data
    for name in data:
        assert f"../representations/{name}" in index
    assert "QĐ 12/QĐ-LTLS" in premis.decode("utf-8") and b"the whole AIP" in premis


def migration_plan(env: dict[str, str]) -> list[dict[str, Any]]:
    r = run_cli("migrate", "--dry-run", "--json", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    return [f for aip in json.loads(r.stdout)["plan"]["aips"] for f in aip["files"]]


def texts(url: str) -> dict[str, str]:
    engine = create_engine(url)
    with Session(engine) as s:
        found = {t.file_uuid: t.text_folded for t in s.scalars(select(FileText))}
    engine.dispose()
    return found


def test_a_rebuilt_catalog_knows_each_copy_its_source_and_action(
    ingested: dict[str, Any], tmp_path: Path, head_schema: HeadSchema
) -> None:
    """The catalog lost: ``kholuu rebuild-catalog`` reads back from storage which files are copies,
    of what (PREMIS derivation relationship) and made by which policy action (the fingerprint in the
    normalization event), so ``kholuu migrate`` still knows which copies are current."""
    env = ingested["env"]
    with another_database(env["KHOLUU_DATABASE_URL"], tmp_path) as fresh:
        engine = create_engine(fresh)
        head_schema.install(engine)
        engine.dispose()
        rebuilt_env = {**env, "KHOLUU_DATABASE_URL": fresh}
        r = run_cli("rebuild-catalog", "--location", "primary", "--json", env=rebuilt_env)
        assert r.returncode == 0, r.stdout + r.stderr
        # the next migration sees what it saw before the loss: the copies made at ingest are
        # current; only the two conversions that failed at ingest are wanted again
        before, after = (migration_plan(e) for e in (env, rebuilt_env))
        assert after == before and sorted(f["file"] for f in before) == ["ghi âm.wav", "logo.png"]
        assert texts(fresh) == {}  # derived data, not in the AIP: read again by kholuu reindex
        r = run_cli("reindex", "--json", env=rebuilt_env)
        assert r.returncode == 0 and json.loads(r.stdout)["texts"] == 1, r.stdout + r.stderr
        assert texts(fresh) == texts(env["KHOLUU_DATABASE_URL"]) != {}  # the DOCX's, as at ingest
        engine = create_engine(fresh)
        with Session(engine) as s:
            rebuilt = {
                f.aip_path: (f.role, f.representation, f.puid, f.derived_from, f.action, f.uuid)
                for f in s.scalars(select(File).where(File.aip_id == ingested["result"]["aip_id"]))
            }
        engine.dispose()
    copies = {p: row for p, row in ingested["files"].items() if row[0] is FileRole.DERIVATIVE}
    assert len(copies) == 2 and all(row[4] for row in copies.values())  # the PDF/A and the JPEG
    assert rebuilt == ingested["files"]
