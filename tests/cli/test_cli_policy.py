"""``kholuu policy show | check | diff`` as an operator runs them, against real ingests of the
samples, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from preservation.planning.policy import DEFAULT_FILE
from tests.conftest import SAMPLES, cli_env, run_cli

QUYET_DINH = SAMPLES / "sip-folder-quyet-dinh"
CONG_VAN = SAMPLES / "sip-bag-cong-van" / "data"


@pytest.fixture
def env(home: Path, database_url: str) -> dict[str, str]:
    e = cli_env(home, database_url)
    assert run_cli("init", "--json", env=e).returncode == 0
    return e


def kholuu_json(*args: str, env: dict[str, str]) -> Any:
    r = run_cli(*args, "--json", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def size(*paths: Path) -> int:
    return sum(p.stat().st_size for p in paths)


def test_check_and_diff_count_the_held_files(env: dict[str, str], tmp_path: Path) -> None:
    own = tmp_path / "sip-la"  # a format no engine knows, beside plain text
    own.mkdir()
    (own / "du-lieu.qzx").write_bytes(bytes(range(7, 256)) * 9)
    (own / "ghi-chu.txt").write_text("Ghi chú về hồ sơ.\n", encoding="utf-8")
    for sample in (QUYET_DINH, SAMPLES / "sip-bag-cong-van", own):
        assert kholuu_json("ingest", str(sample), env=env)["status"] == "stored"

    report = kholuu_json("policy", "check", env=env)
    rows = {row["puid"]: row for row in report["formats"]}
    pdfs = [QUYET_DINH / "Quyết định số 12.pdf", CONG_VAN / "Công văn số 45-UBND-VP.pdf"]
    assert (rows["fmt/18"]["files"], rows["fmt/18"]["bytes"]) == (2, size(*pdfs))
    assert rows["fmt/18"]["risk"] == "medium" and rows["fmt/18"]["accepted"] == {"tt05": False, "tt02": True}
    assert rows["fmt/18"]["preservation"]["tool"] == "ghostscript"
    docx = rows["fmt/412"]
    assert (docx["files"], docx["bytes"]) == (1, size(QUYET_DINH / "Tờ trình số 05.docx"))
    assert docx["preservation"]["output_puid"] == "fmt/477"
    tiff = rows["fmt/353"]
    assert (
        tiff["accepted"]["tt05"]
        and tiff["preservation"] is None
        and tiff["access"]["output_puid"] == "fmt/43"
    )
    unknown = rows[None]  # not assessed: right after high risk, so first here
    assert report["formats"][0] is unknown and report["formats"][1]["puid"] == "fmt/18"
    assert (unknown["files"], unknown["bytes"], unknown["risk"]) == (1, 249 * 9, "unknown")
    assert not unknown["in_policy"] and unknown["accepted"] == {"tt05": None, "tt02": None}
    assert rows["x-fmt/111"]["accepted"]["tt05"] and rows["x-fmt/111"]["files"] == 1
    payload = [*QUYET_DINH.iterdir(), *CONG_VAN.iterdir(), *own.iterdir()]
    assert (report["files"], report["bytes"]) == (len(payload), size(*payload))
    assert all(row["in_policy"] for row in report["formats"] if row["puid"])

    text = run_cli("policy", "check", env=env)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].startswith("Formats held")
    assert lines[2].split()[:4] == ["(unidentified)", "—", "not", "assessed"]
    pdf_line = next(line for line in lines if line.startswith("fmt/18 "))
    assert pdf_line.split()[-7:] == [
        "yes",
        "2",
        str(size(*pdfs)),
        "preservation:",
        "ghostscript",
        "→",
        "fmt/477",
    ]
    assert lines[-1] == f"Total: {len(rows)} formats, {len(payload)} files, {size(*payload)} bytes."

    proposed = tmp_path / "proposed.toml"
    proposed.write_text(
        """
        [formats."fmt/18".preservation]   # scanned or not, every PDF through OCRmyPDF
        tool = "ocrmypdf"
        output_puid = "fmt/477"
        output_extension = "pdf"
        args = ["-l", "vie", "--skip-text", "--output-type", "pdfa-2"]

        [formats."fmt/353"]
        access = "image-png"

        [formats."fmt/214"]
        accepted = { tt02 = true }

        [formats."fmt/11"]
        risk = "medium"
        """,
        encoding="utf-8",
    )
    result = kholuu_json("policy", "diff", str(proposed), env=env)
    changes = {c["puid"]: c for c in result["changes"]}
    assert list(changes) == ["fmt/18", "fmt/214", "fmt/353"]  # a risk change alone migrates nothing
    assert (changes["fmt/18"]["files"], changes["fmt/18"]["bytes"]) == (2, size(*pdfs))
    assert changes["fmt/18"]["migrates"] == ["preservation"]
    (pdf_change,) = changes["fmt/18"]["changes"]
    assert pdf_change["field"] == "preservation" and pdf_change["after"].startswith("ocrmypdf → fmt/477")
    assert changes["fmt/353"]["migrates"] == ["access"] and changes["fmt/353"]["files"] == 1
    assert changes["fmt/214"]["migrates"] == [] and changes["fmt/214"]["files"] == 0
    assert changes["fmt/214"]["changes"] == [{"field": "accepted.tt02", "before": False, "after": True}]
    tif_bytes = size(CONG_VAN / "so-do-kho-luu-tru.tif")
    assert (result["files"], result["bytes"]) == (3, size(*pdfs) + tif_bytes)

    text = run_cli("--lang", "vi", "policy", "diff", str(proposed), env=env)
    assert text.returncode == 0, text.stderr
    assert f"fmt/18 Acrobat PDF 1.4: một lần chuyển đổi sẽ động tới 2 tệp, {size(*pdfs)} byte" in text.stdout
    assert "fmt/214 Microsoft Excel 2007+ (XLSX): không tệp nào phải chuyển đổi lại." in text.stdout
    assert "Chấp nhận theo TT 02/2019: không → có" in text.stdout


def test_show_says_which_fields_the_override_sets(home: Path, tmp_path: Path) -> None:
    """Nothing here reads holdings: SQLite only."""
    env = cli_env(home, f"sqlite:///{tmp_path / 'catalog.sqlite3'}")
    assert run_cli("init", "--json", env=env).returncode == 0
    shipped = kholuu_json("policy", "show", "fmt/40", env=env)
    assert shipped["sources"]["risk"] == "shipped" and shipped["files"]["override"] is None
    assert shipped["actions"] == {"preservation": "text-pdfa", "access": "text-pdfa"}

    (home / "planning").mkdir()
    (home / "planning" / "formats.toml").write_text('[formats."fmt/40"]\nrisk = "high"\n', encoding="utf-8")
    shown = kholuu_json("policy", "show", "fmt/40", env=env)
    assert shown["risk"] == "high" and shown["sources"]["risk"] == "override"
    assert shown["sources"]["name"] == "shipped" and shown["sources"]["ocr"] == "default"
    assert shown["preservation"] == shipped["preservation"]
    assert shown["fingerprint"] == shipped["fingerprint"]  # a risk is a judgement, not a change to files
    assert shown["files"]["override"] == str(home / "planning" / "formats.toml")

    text = run_cli("--lang", "vi", "policy", "show", "fmt/40", env=env)
    assert text.returncode == 0, text.stderr
    risk_line = next(line for line in text.stdout.splitlines() if "Mức rủi ro" in line)
    assert risk_line.split() == ["Mức", "rủi", "ro", "cao", "[tệp", "ghi", "đè]"]
    assert "“text-pdfa”: libreoffice → fmt/477 (.pdf)" in text.stdout

    missing = run_cli("policy", "show", "fmt/999999", env=env)
    assert missing.returncode == 4 and "no entry for fmt/999999" in missing.stderr

    release = tmp_path / "release.toml"  # a new release's shipped file, here the same as ours
    release.write_text(DEFAULT_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    same = run_cli("policy", "diff", str(release), "--as-shipped", env=env)
    assert same.returncode == 0 and "No format changes its conversion actions" in same.stdout

    local = env | {"KHOLUU_PLANNING__POLICY_OVERRIDE": "local.toml"}
    elsewhere = run_cli("policy", "show", "fmt/40", env=local)
    assert elsewhere.returncode == 4
    assert f"names {home / 'local.toml'}, which does not exist" in elsewhere.stderr

    (home / "planning" / "formats.toml").write_text(
        '[formats."fmt/40"]\nrisk = "extreme"\n', encoding="utf-8"
    )
    broken = run_cli("policy", "check", "--json", env=env)
    assert broken.returncode == 2
    error = json.loads(broken.stdout)["error"]
    assert error["code"] == "policy.bad_value"
    assert error["params"]["entry"] == "fmt/40" and error["params"]["field"] == "risk"
    assert str(home / "planning" / "formats.toml") in error["message"]
