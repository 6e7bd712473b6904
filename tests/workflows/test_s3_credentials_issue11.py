"""Issue 11, item 7, against the real S3 server: an S3 location added from a shell with AWS_*
variables, then an ingest from a shell without them (cron, systemd). The ingest used to FAIL with
``storage.no_credentials``; now it queues the copy and says why, as when the server is down.
``storage add`` records where the credentials came from and ``storage check`` says what this
process finds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import s3 as s3test
from tests.conftest import SAMPLES, cli_env, run_cli

KHOLUU = str(Path(sys.executable).parent / "kholuu")


@pytest.fixture
def bucket() -> Iterator[str]:
    client = s3test.client()
    name = f"t-{os.urandom(8).hex()}"
    yield name
    s3test.empty_and_delete(client, name)


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KHOLUU, *args], env=env, capture_output=True, text=True, timeout=600)


def test_issue11_item7_ingest_without_s3_credentials_queues_the_copy(
    home: Path, bucket: str, database_url: str, tmp_path: Path
) -> None:
    endpoint = s3test.require_s3()
    shell = cli_env(home, database_url)  # the operator's shell: AWS_* set
    cron = {k: v for k, v in shell.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    cron |= {
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    # what the operator's shell runs has the credentials this test process has: in-process
    # (run_cli); what cron runs, without them, runs in a process of its own
    assert run_cli("init", env=shell).returncode == 0
    added = run_cli("storage", "add", "offsite", "--backend", "s3", "--endpoint", endpoint,
                    "--bucket", bucket, "--prefix", "kholuu", "--create-bucket", "--json",
                    env=shell)  # fmt: skip
    assert added.returncode == 0, added.stdout + added.stderr
    assert json.loads(added.stdout)["location"]["credentials"] == {"found": "env", "recorded": "env"}
    assert "cron" in added.stderr  # the warning: these credentials will not be there for a cron job
    config = tomllib.loads((home / "kholuu.toml").read_text(encoding="utf-8"))
    (offsite,) = [loc for loc in config["storage"]["locations"] if loc["name"] == "offsite"]
    assert offsite["credentials_source"] == "env"

    stored = run(cron, "ingest", str(SAMPLES / "sip-folder-quyet-dinh"), "--json")
    assert stored.returncode == 0, stored.stdout + stored.stderr
    result = json.loads(stored.stdout)
    assert result["status"] == "degraded" and set(result["locations"]) == {"primary"}
    assert "no S3 credentials" in result["pending"]["offsite"]
    queued = [e for e in result["events"] if e["type"] == "replication" and e["outcome"] == "failure"]
    assert queued and "no S3 credentials" in queued[0]["outcome_detail"]
    human = run({**cron, "KHOLUU_LANG": "vi"}, "ingest", str(SAMPLES / "sip-bag-cong-van"))
    assert human.returncode == 0 and "ĐANG CHỜ" in human.stderr + human.stdout

    checked = run(cron, "storage", "check", "--json")
    assert checked.returncode == 1  # a required location this process cannot use
    report = {loc["name"]: loc for loc in json.loads(checked.stdout)["locations"]}
    assert report["offsite"]["credentials"] == {"found": None, "recorded": "env"}
    assert [p["code"] for p in report["offsite"]["problems"]] == ["storage.no_credentials"]
    assert report["primary"]["ok"] and report["primary"]["credentials"] is None
    text = run(cron, "storage", "check", "offsite")
    assert "env" in text.stdout and "cron" in text.stdout

    synced = run_cli("storage", "sync", "--json", env=shell)  # from a shell that has them: the copies land
    assert synced.returncode == 0, synced.stdout + synced.stderr
    show = json.loads(run(cron, "aip", "show", result["aip_id"], "--json").stdout)
    assert show["status"] == "stored"

    # the way to run from cron: a credentials file named in the location
    creds = tmp_path / "credentials"
    creds.write_text(
        f"[archive]\naws_access_key_id = {shell['AWS_ACCESS_KEY_ID']}\n"
        f"aws_secret_access_key = {shell['AWS_SECRET_ACCESS_KEY']}\n",
        encoding="utf-8",
    )
    profile = ["--profile", "archive", "--credentials-file", str(creds)]
    vault = run(cron, "storage", "add", "vault", "--backend", "s3", "--endpoint", endpoint,
                "--bucket", bucket, "--prefix", "vault", *profile, "--json")  # fmt: skip
    assert vault.returncode == 0, vault.stdout + vault.stderr
    found = {"found": "shared-credentials-file", "recorded": "shared-credentials-file"}
    assert json.loads(vault.stdout)["location"]["credentials"] == found
    assert "cron" not in vault.stderr
    again = json.loads(run(cron, "storage", "check", "vault", "--json").stdout)
    assert again["ok"] and again["locations"][0]["credentials"] == found
