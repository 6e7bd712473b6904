"""Issue 14's proof of the job queue: three ``kholuu worker`` processes on PostgreSQL share 30
ingests into a local disk and the real S3 server; one worker is SIGKILLed in the middle of a job
(written to storage, not registered: the hardest moment). Its job is rolled back and tried again
by another worker once the dead one stops answering, and every SIP ends stored exactly once, with
valid OCFL storage roots in both locations and a clean ``kholuu check --consistency``.

The kill is the house's deterministic kill point (``KHOLUU_KILL_AT``), set for one worker only.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import ocfl
import pytest
from sqlalchemy import func, select

from repository.catalog.db import make_engine, session_factory
from repository.catalog.models import Aip, AipStatus, Job, JobStatus
from tests import s3 as s3test
from tests.conftest import KHOLUU, cli_env, postgres_problem, postgres_schema, run_cli, write_home_config
from workflows.jobs.queue import attempts, has_ended
from workflows.jobs.runner import KILL_AT_ENV

SIPS = 30
WORKERS = 3


@pytest.fixture
def pg_url() -> Iterator[str]:
    problem = postgres_problem()
    if problem:
        pytest.skip(reason=f"PostgreSQL unavailable: {problem}")
    with postgres_schema() as url:
        yield url


@pytest.fixture
def bucket() -> Iterator[str]:
    client = s3test.client()
    name = f"t-{os.urandom(8).hex()}"  # created by the location itself
    yield name
    s3test.empty_and_delete(client, name)


def make_sips(root: Path) -> list[Path]:
    """Tiny SIPs, each with its own payload (identical ones would be refused as duplicates)."""
    sips = []
    for i in range(SIPS):
        sip = root / f"ho-so-{i:02d}"
        sip.mkdir(parents=True)
        (sip / "van-ban.txt").write_text(f"Công văn số {i}/UBND, gửi các sở.\n", encoding="utf-8")
        sips.append(sip)
    return sips


def ocfl_valid(root: str) -> tuple[bool, int]:
    store = ocfl.StorageRoot(root=root)
    valid = bool(store.validate(validate_objects=True, check_digests=True))
    return valid and store.good_objects == store.num_objects, store.num_objects


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_three_workers_one_killed_every_sip_stored_once(
    home: Path, pg_url: str, bucket: str, tmp_path: Path
) -> None:
    write_home_config(
        home,
        '[[storage.locations]]\nname = "primary"\nrole = "primary"\nbackend = "local"\n'
        'path = "storage/primary"\n\n' + s3test.location_toml("s3", bucket),
        jobs='dispatch = "queue"\nheartbeat_seconds = 1.0\nstalled_seconds = 8.0',
    )
    env = cli_env(home, pg_url)
    assert run_cli("init", env=env).returncode == 0
    sips = make_sips(tmp_path / "sips")
    submitted = []
    for sip in sips:  # submitted before any worker runs: the queue holds them
        done = run_cli("ingest", str(sip), "--no-wait", "--json", env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        submitted.append(json.loads(done.stdout)["job_id"])
    engine = make_engine(pg_url)
    sessions = session_factory(engine)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).where(Job.status == JobStatus.QUEUED)) == SIPS

    logs = [(tmp_path / f"worker-{i}.log").open("w") for i in range(WORKERS)]
    workers = [
        subprocess.Popen(
            [KHOLUU, "worker"],
            env={**env, **({KILL_AT_ENV: "after storage"} if i == 0 else {})},
            stdout=logs[i],
            stderr=subprocess.STDOUT,
        )
        for i in range(WORKERS)
    ]
    try:
        assert workers[0].wait(timeout=120) == -signal.SIGKILL  # died with an AIP written, not registered
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            with sessions() as session:
                if all(has_ended(attempts(session, j)[1]) for j in submitted):
                    break
            time.sleep(1)
    finally:
        for proc in workers[1:]:
            proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(timeout=120) for proc in workers[1:]]
        for log in logs:
            log.close()
    worker_logs = "\n".join(p.read_text() for p in sorted(tmp_path.glob("worker-*.log")))
    assert codes == [0] * (WORKERS - 1), worker_logs

    with engine.connect() as conn:
        rows = conn.execute(
            select(Job.id, Job.status, Job.attempt, Job.retry_of, Job.error_code, Job.error_message)
        ).all()
        aips = conn.execute(select(Aip.id, Aip.source_name, Aip.status)).all()
    engine.dispose()
    by_id = {r.id: r for r in rows}
    killed = [r for r in rows if r.status is JobStatus.INTERRUPTED]
    assert len(killed) == 1 and killed[0].attempt == 1  # the killed worker's attempt, rolled back
    retries = [r for r in rows if r.retry_of is not None]
    assert len(retries) == 1, (retries, worker_logs)
    (again,) = retries
    assert again.retry_of == killed[0].id and again.attempt == 2 and again.status is JobStatus.COMPLETED
    assert [by_id[j].status for j in submitted if j != killed[0].id] == [JobStatus.COMPLETED] * (SIPS - 1), (
        worker_logs
    )

    # every SIP stored exactly once, both copies written, both storage roots valid
    assert sorted(a.source_name for a in aips) == sorted(s.name for s in sips)
    assert {a.status for a in aips} == {AipStatus.STORED}
    assert ocfl_valid(str(home / "storage" / "primary" / "ocfl-root")) == (True, SIPS)
    s3_root = f"s3://{bucket}/kholuu/ocfl-root?endpoint_url={s3test.require_s3()}"
    assert ocfl_valid(s3_root) == (True, SIPS)

    shown = run_cli("job", "show", killed[0].id, "--json", env=env)
    assert json.loads(shown.stdout)["later_attempts"] == [again.id]
    checked = run_cli("check", "--consistency", "--json", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
