"""The ``kholuu`` command as an operator runs it: JSON, exit codes, messages. In-process
(:func:`tests.conftest.run_cli`); the progress bar test runs a real process on a terminal."""

from __future__ import annotations

import json
import os
import pty
import select as io_select
import subprocess
import unicodedata
from pathlib import Path

import pytest

from tests.conftest import KHOLUU, SAMPLES, CliRun, cli_env, run_cli
from tests.preservation.test_virus import eicar


def kholuu(*args: str, env: dict[str, str]) -> CliRun:
    return run_cli(*args, env=env)


@pytest.fixture
def env(home: Path, database_url: str) -> dict[str, str]:
    e = cli_env(home, database_url)
    r = kholuu("init", "--json", env=e)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["home"] == str(home)
    assert info["locations"][0]["name"] == "primary"
    return e


def ingest_json(path: Path, env: dict[str, str]) -> dict[str, object]:
    r = kholuu("ingest", str(path), "--json", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stderr == ""  # no progress bar, no chatter, when not on a terminal
    out: dict[str, object] = json.loads(r.stdout)
    return out


def test_ingest_list_show_verify_fetch(env: dict[str, str], tmp_path: Path) -> None:
    result = ingest_json(SAMPLES / "sip-bag-cong-van", env)
    assert result["status"] == "stored"
    assert {"aip_id", "status", "files", "bytes", "events"} <= set(result)
    aip_id = str(result["aip_id"])
    assert isinstance(result["events"], list) and result["events"]

    listed = json.loads(kholuu("aip", "list", "--json", env=env).stdout)
    assert [a["aip_id"] for a in listed["aips"]] == [aip_id]

    show = json.loads(kholuu("aip", "show", aip_id[:13], "--json", env=env).stdout)
    originals = [f for f in show["files"] if f["role"] == "original"]
    assert len(originals) == result["files"]
    for f in originals:
        assert {"path", "size", "sha256", "puid", "format_name"} <= set(f)
        assert len(f["sha256"]) == 64
    assert any(e["type"] == "format identification" for e in show["events"])

    verify = kholuu("aip", "verify", aip_id, "--json", env=env)
    assert verify.returncode == 0, verify.stdout
    report = json.loads(verify.stdout)
    assert report["ok"] and report["outcome"] == "passed"
    assert report["files"] == len(show["files"])

    out = tmp_path / "out"
    fetched = kholuu("aip", "fetch", aip_id, "--out", str(out), "--json", env=env)
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    folder = Path(json.loads(fetched.stdout)["path"])
    assert (folder / "METS.xml").is_file()
    for f in show["files"]:
        assert (folder / f["aip_path"]).stat().st_size == f["size"]


def test_verify_finds_a_damaged_copy(env: dict[str, str], home: Path) -> None:
    aip_id = str(ingest_json(SAMPLES / "sip-folder-quyet-dinh", env)["aip_id"])
    pdfs = sorted((home / "storage" / "primary" / "ocfl-root").rglob("*.pdf"))
    victim = pdfs[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.chmod(0o644)
    victim.write_bytes(bytes(data))
    r = kholuu("aip", "verify", aip_id, "--json", env=env)
    assert r.returncode == 1
    report = json.loads(r.stdout)
    assert report["outcome"] == "failed"
    problems = report["locations"][0]["problems"]
    assert any(victim.name in p["path"] for p in problems)
    show = json.loads(kholuu("aip", "show", aip_id, "--json", env=env).stdout)
    assert show["events"][-1]["type"] == "fixity check" and show["events"][-1]["outcome"] == "failure"


def test_refused_ingest_names_file_and_tool(env: dict[str, str], tmp_path: Path) -> None:
    sip = tmp_path / "sip"
    sip.mkdir()
    (sip / "eicar.com").write_bytes(eicar())
    r = kholuu("ingest", str(sip), "--json", env=env)
    assert r.returncode == 3
    out = json.loads(r.stdout)
    assert out["status"] == "refused"
    assert out["error"]["code"] == "virus.infected"
    assert out["errors"][0]["path"] == "eicar.com"
    assert out["errors"][0]["tool"].startswith("ClamAV/")
    assert Path(out["quarantine"]).is_dir()
    show = json.loads(kholuu("job", "show", out["job_id"], "--json", env=env).stdout)
    assert show["status"] == "refused"
    assert show["errors"][0]["path"] == "eicar.com"
    human = kholuu("job", "show", out["job_id"], env=env)
    assert "eicar.com" in human.stdout and "ClamAV" in human.stdout
    jobs = json.loads(kholuu("job", "list", "--status", "refused", "--json", env=env).stdout)
    assert [(j["job_id"], j["error_code"], j["errors"]) for j in jobs["jobs"]] == [
        (out["job_id"], "virus.infected", 1)
    ]
    listed = kholuu("job", "list", env=env)
    assert listed.returncode == 0 and out["job_id"] in listed.stdout and "virus.infected" in listed.stdout
    clean = kholuu("job", "clean", out["job_id"], env=env)
    assert clean.returncode == 0
    assert not Path(out["quarantine"]).exists()


def test_duplicate_is_reported_with_the_first_aip(env: dict[str, str]) -> None:
    first = ingest_json(SAMPLES / "sip-zip-bao-cao.zip", env)
    r = kholuu("ingest", str(SAMPLES / "sip-zip-bao-cao.zip"), env=env)
    assert r.returncode == 3
    assert str(first["aip_id"]) in r.stderr
    r2 = kholuu("ingest", str(SAMPLES / "sip-zip-bao-cao.zip"), "--allow-duplicate", "--json", env=env)
    assert r2.returncode == 0


def test_errors_name_the_problem(env: dict[str, str], home: Path, tmp_path: Path) -> None:
    missing = kholuu("ingest", str(tmp_path / "khong-co"), "--json", env=env)
    assert missing.returncode != 0
    assert "khong-co" in json.loads(missing.stdout)["error"]["message"]

    unknown = kholuu("aip", "show", "uuid-00000000", env=env)
    assert unknown.returncode == 4
    assert "uuid-00000000" in unknown.stderr

    (home / "kholuu.toml").write_text("[virus_check]\ndatabse = 'x'\n", encoding="utf-8")
    bad = kholuu("aip", "list", env=env)
    assert bad.returncode == 2
    assert "virus_check.databse" in bad.stderr


def test_uninitialised_home(home: Path, database_url: str) -> None:
    r = kholuu("aip", "list", env=cli_env(home, database_url))
    assert r.returncode == 2
    assert "kholuu init" in r.stderr


def test_vietnamese_is_the_default_language(env: dict[str, str]) -> None:
    vi = {k: v for k, v in env.items() if k != "KHOLUU_LANG"}
    r = kholuu("aip", "show", "uuid-00000000", env=vi)
    assert "Không tìm thấy" in r.stderr
    r = kholuu("--lang", "en", "aip", "show", "uuid-00000000", env=vi)
    assert "No AIP" in r.stderr


def test_progress_bar_only_on_a_terminal(env: dict[str, str], tmp_path: Path) -> None:
    sip = tmp_path / "sip"
    sip.mkdir()
    for i in range(40):
        (sip / unicodedata.normalize("NFD", f"Tài liệu {i}.txt")).write_text(
            f"tài liệu {i}", encoding="utf-8"
        )
    master, slave = pty.openpty()
    proc = subprocess.Popen([KHOLUU, "ingest", str(sip)], env=env, stdout=slave, stderr=slave)
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = io_select.select([master], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(master)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0, screen
    assert "\r" in screen and "format identification" in screen and "/40" in screen


def test_init_reports_an_unreachable_location_and_still_prepares_the_catalog(
    home: Path, database_url: str
) -> None:
    from tests.conftest import write_home_config

    write_home_config(
        home,
        '[[storage.locations]]\nname = "primary"\nbackend = "local"\npath = "storage/primary"\n\n'
        '[[storage.locations]]\nname = "offsite"\nrole = "replica"\nbackend = "s3"\n'
        'endpoint = "http://127.0.0.1:9"\nbucket = "kholuu"\nconnect_timeout = 1.0\nmax_attempts = 1\n',
    )
    e = cli_env(home, database_url, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="y")
    r = kholuu("init", "--json", env=e)
    assert r.returncode == 1
    info = json.loads(r.stdout)
    assert [(loc["name"], loc["ready"]) for loc in info["locations"]] == [
        ("primary", True),
        ("offsite", False),
    ]
    assert info["locations"][1]["problem"]["code"] == "storage.unavailable"
    listed = kholuu("aip", "list", "--json", env=e)
    assert listed.returncode == 0 and json.loads(listed.stdout)["count"] == 0  # the catalog is ready
    checked = json.loads(kholuu("storage", "check", "--json", env=e).stdout)
    assert checked["ok"] is False
    assert [(loc["name"], loc["ok"], loc["reachable"]) for loc in checked["locations"]] == [
        ("primary", True, True),
        ("offsite", False, False),
    ]
