"""An operator ingests office documents and sees, per file, what the validation found."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import cli_env, run_cli
from tests.office_files import flip_byte_in, make_docx


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_ingest_records_docx_validity_and_aip_show_names_the_damage(
    home: Path, database_url: str, tmp_path: Path
) -> None:
    env = cli_env(home, database_url)
    assert run_cli("init", env=env).returncode == 0
    folder = tmp_path / "cong-van"
    folder.mkdir()
    make_docx(folder / "good.docx", "Công văn số 01 " * 20)
    flip_byte_in(
        make_docx(tmp_path / "src.docx", "Công văn số 02 " * 20), "word/document.xml", folder / "bad.docx"
    )
    ingest = run_cli("ingest", str(folder), "--json", env=env)
    assert ingest.returncode == 0, ingest.stdout + ingest.stderr
    aip_id = json.loads(ingest.stdout)["aip_id"]

    show = json.loads(run_cli("aip", "show", aip_id, "--json", env=env).stdout)
    files = {f["path"]: f for f in show["files"] if f["role"] == "original"}
    assert {p: (f["puid"], f["validity"]) for p, f in files.items()} == {
        "good.docx": ("fmt/412", "valid"),
        "bad.docx": ("fmt/412", "invalid"),
    }
    (office,) = [c for c in files["bad.docx"]["characteristics"] if c["validator"] == "office"]
    assert office["findings"][0]["code"] in {"office.part_damaged", "office.xml_damaged"}
    events = [e for e in show["events"] if e["type"] == "validation" and e["outcome"] == "failure"]
    assert len(events) == 1

    text = run_cli("aip", "show", aip_id, env=env).stdout
    bad_line = text.index("bad.docx")
    assert "office: invalid" in text[bad_line:]
    assert "A part of bad.docx is damaged" in text or "An XML part of bad.docx is not well-formed" in text
