"""Load soak: concurrent ingests through the web app and concurrent public searches against a real
``kholuu serve`` on PostgreSQL, on loopback, for a bounded time; the ingests the web app queues
are run by ``--workers`` ``kholuu worker`` processes, as in production (docs/deploy.md). Prints
figures; exits 1 when a request failed, an ingest did not end ``completed``, the job queue did not
drain, or the server's memory grew (``make soak`` runs it; docs/reliability.md reports the last run).

    .venv/bin/python bench/soak_load.py [--minutes 30] [--ingests 20] [--searches 200] [--workers 2]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test] [--out soak-load.json]

A fresh schema (``soak_<pid>``, dropped at the end) is migrated by ``kholuu init`` and given the
public catalog of the test suite (:func:`tests.public_seed.seed`, with 40 more open hồ sơ). A
staff account (preservation officer) gets an API token. Then, round after round until
``--minutes`` have passed (at least one round), at the same moment:

* ``--ingests`` clients each upload a small ZIP SIP of their own (a TIFF, a PNG, a text; about
  20 KB) through the REST upload API (``POST /api/v1/uploads``, ``PATCH`` the bytes), start its
  ingest (``POST /api/v1/ingests``) and poll ``/api/v1/jobs/<id>`` until it ends;
* ``--searches`` clients each run one public search (``/search?q=…`` and ``/api/v1/search?q=…``,
  words from the seeded titles and texts, no login).

Every request has a 120 s timeout; a round waits for its ingests at most 20 minutes. The server's
resident memory (VmRSS) is sampled every 2 s; the first round is warm-up (imports, the format
identification engines, caches, connection pools), and "flat" means the median of the last fifth
of the samples after it is within 15 % (or 40 MB) of the median of the first fifth after it
(judged from two rounds on). p50/p95/max latency per kind of request are printed and written to
``--out`` as JSON.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402
from sqlalchemy import text  # noqa: E402

from repository.catalog.db import make_engine, session_factory  # noqa: E402

KHOLUU = str(Path(sys.executable).parent / "kholuu")
SIGNATURES = ROOT / "config" / "clamav"
QUERIES = ["quyết định", "quyet dinh", "ủy ban", "Đà Nẵng", "khởi công", "hội nghị", "1997", "trụ sở"]
TIMEOUT = 120.0


@dataclass
class Figures:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    ingests: int = 0
    searches: int = 0
    rss_kib: list[tuple[float, int]] = field(default_factory=list)
    warm: float = 0.0  # seconds into the run when the first round (warm-up) ended
    lock: threading.Lock = field(default_factory=threading.Lock)

    def took(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)

    def failed(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)


class Client:
    def __init__(self, base: str, token: str | None = None) -> None:
        self.base = base
        self.token = token

    def call(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        request = urllib.request.Request(self.base + path, data=body, method=method)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def json(self, method: str, path: str, payload: Any = None, **kw: Any) -> tuple[int, Any]:
        body = json.dumps(payload).encode() if payload is not None else kw.pop("body", None)
        headers = {"Content-Type": "application/json"} if payload is not None else kw.pop("headers", {})
        status, raw = self.call(method, path, body, headers)
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw[:200]


def sip_zip(n: int) -> bytes:
    """A small SIP of its own (distinct bytes, so no ingest is a duplicate of another)."""
    buffer = io.BytesIO()
    rng = random.Random(n)
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, fmt, size in (("bản đồ.tif", "TIFF", (60, 40)), ("logo.png", "PNG", (30, 20))):
            image = io.BytesIO()
            colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
            Image.new("RGB", size, colour).save(image, fmt)
            zf.writestr(f"sip-{n}/{name}", image.getvalue())
        zf.writestr(f"sip-{n}/công văn.txt", f"Công văn số {n}/UBND {uuid.uuid4()}\n" * 20)
    return buffer.getvalue()


def one_ingest(client: Client, n: int, figures: Figures, deadline: float) -> None:
    started = time.monotonic()
    data = sip_zip(n)
    status, upload = client.json("POST", "/api/v1/uploads", {"name": f"sip-{n}.zip", "size": len(data)})
    if status != 201:
        figures.failed(f"upload start {n}: {status} {upload}")
        return
    status, state = client.json(
        "PATCH",
        f"/api/v1/uploads/{upload['upload_id']}",
        body=data,
        headers={
            "Content-Type": "application/octet-stream",
            "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}",
        },
    )
    if status != 200 or not state.get("complete"):
        figures.failed(f"upload {n}: {status} {state}")
        return
    figures.took("upload", time.monotonic() - started)
    status, queued = client.json("POST", "/api/v1/ingests", {"upload_id": upload["upload_id"]})
    if status != 202:
        figures.failed(f"ingest {n}: {status} {queued}")
        return
    while time.monotonic() < deadline:
        polled = time.monotonic()
        status, job = client.json("GET", f"/api/v1/jobs/{queued['job_id']}")
        figures.took("job poll", time.monotonic() - polled)
        if status != 200:
            figures.failed(f"job {queued['job_id']}: {status} {job}")
            return
        if job["status"] not in ("queued", "running"):
            if job["status"] != "completed":
                figures.failed(f"job {queued['job_id']} ended {job['status']}: {job.get('error')}")
            else:
                figures.took("ingest end to end", time.monotonic() - started)
                with figures.lock:
                    figures.ingests += 1
            return
        time.sleep(0.5)
    figures.failed(f"job {queued['job_id']} still not ended at the round's deadline")


def one_search(client: Client, n: int, figures: Figures) -> None:
    query = urllib.parse.quote(QUERIES[n % len(QUERIES)])
    path, kind = (
        (f"/search?q={query}", "search page") if n % 2 else (f"/api/v1/search?q={query}", "search api")
    )
    started = time.monotonic()
    try:
        status, body = client.call("GET", path)
    except OSError as exc:
        figures.failed(f"{path}: {exc}")
        return
    figures.took(kind, time.monotonic() - started)
    if status != 200:
        figures.failed(f"{path}: {status} {body[:200]!r}")
    else:
        with figures.lock:
            figures.searches += 1


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def sample_memory(pid: int, figures: Figures, stop: threading.Event, t0: float) -> None:
    while not stop.wait(2.0):
        try:
            figures.rss_kib.append((time.monotonic() - t0, rss_kib(pid)))
        except OSError:
            return


def run(env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    def kholuu(*cli: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [KHOLUU, *cli], env=env, input=stdin, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(f"kholuu {' '.join(cli)} failed: {done.stdout}{done.stderr}")
        return done.stdout

    kholuu("init")
    from tests.public_seed import seed

    engine = make_engine(env["KHOLUU_DATABASE_URL"])
    seed(session_factory(engine), extra_open=40)
    engine.dispose()
    kholuu(
        "user",
        "add",
        "soak",
        "--role",
        "preservation_officer",
        "--password-stdin",
        stdin="soak-password-1234\n",
    )
    token = json.loads(kholuu("token", "issue", "soak", "--label", "soak", "--json"))["token"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [KHOLUU, "serve", "--port", str(port), "--threads", "8"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(Path(env["KHOLUU_HOME"]) / "serve.log", "w"),  # noqa: SIM115
    )
    # On PostgreSQL the web app only queues an ingest: workers, as in production, run it.
    workers = subprocess.Popen(
        [KHOLUU, "worker", "--concurrency", str(args.workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(Path(env["KHOLUU_HOME"]) / "worker.log", "w"),  # noqa: SIM115
    )
    base = f"http://127.0.0.1:{port}"
    figures = Figures()
    stop = threading.Event()
    try:
        for _ in range(300):
            try:
                if Client(base).call("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            raise SystemExit("kholuu serve did not answer /healthz")
        t0 = time.monotonic()
        sampler = threading.Thread(target=sample_memory, args=(server.pid, figures, stop, t0), daemon=True)
        sampler.start()
        staff, public = Client(base, token), Client(base)
        rounds, n = 0, 0
        end = t0 + args.minutes * 60
        while rounds == 0 or time.monotonic() < end:
            deadline = time.monotonic() + 20 * 60
            with ThreadPoolExecutor(args.ingests + args.searches) as pool:
                jobs = [
                    pool.submit(one_ingest, staff, n + i, figures, deadline) for i in range(args.ingests)
                ] + [pool.submit(one_search, public, n + i, figures) for i in range(args.searches)]
                for future in jobs:
                    try:
                        future.result()
                    except Exception as exc:  # a client that broke is an error of the run, not a crash
                        figures.failed(f"client: {type(exc).__name__}: {exc}")
            rounds += 1
            n += args.ingests + args.searches
            if rounds == 1:
                figures.warm = time.monotonic() - t0
            rss = figures.rss_kib[-1][1] // 1024 if figures.rss_kib else 0
            print(
                f"round {rounds}: {figures.ingests} ingests, {figures.searches} searches, "
                f"{len(figures.errors)} errors, rss {rss} MB, {(time.monotonic() - t0) / 60:.1f} min",
                flush=True,
            )
        elapsed = time.monotonic() - t0
        stop.set()
        jobs_out = json.loads(kholuu("job", "list", "--json"))
        listed = jobs_out.get("jobs", jobs_out) if isinstance(jobs_out, dict) else jobs_out
        undrained = [j for j in listed if j.get("status") in ("queued", "running")]
    finally:
        stop.set()
        for process in (server, workers):
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
    return summary(figures, rounds, elapsed, undrained, args)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(
    figures: Figures, rounds: int, elapsed: float, undrained: list[Any], args: argparse.Namespace
) -> dict[str, Any]:
    samples = [kib for _, kib in figures.rss_kib]
    warm = [kib for at, kib in figures.rss_kib if at >= figures.warm] or samples
    fifth = max(1, len(warm) // 5)
    early = statistics.median(warm[:fifth]) / 1024 if warm else 0.0
    late = statistics.median(warm[-fifth:]) / 1024 if warm else 0.0
    # judged after the warm-up round only: a single round says nothing about a leak
    flat = rounds < 2 or late <= max(early * 1.15, early + 40)
    return {
        "minutes": round(elapsed / 60, 2),
        "rounds": rounds,
        "concurrent_ingests": args.ingests,
        "concurrent_searches": args.searches,
        "ingests_completed": figures.ingests,
        "searches_answered": figures.searches,
        "errors": figures.errors[:50],
        "error_count": len(figures.errors),
        "jobs_left_queued_or_running": len(undrained),
        "latency_s": {
            kind: {
                "n": len(v),
                "p50": round(percentile(v, 0.5), 3),
                "p95": round(percentile(v, 0.95), 3),
                "max": round(max(v), 3),
            }
            for kind, v in sorted(figures.latencies.items())
        },
        "rss_mb": {
            "start": round(samples[0] / 1024, 1) if samples else 0,
            "after_warm_up_median": round(early, 1),
            "last_fifth_median": round(late, 1),
            "max": round(max(samples) / 1024, 1) if samples else 0,
            "samples": len(samples),
            "flat": flat,
        },
        "ok": not figures.errors and not undrained and flat,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", "30")))
    parser.add_argument("--ingests", type=int, default=20)
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="kholuu worker processes running the ingests")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "KHOLUU_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--out", type=Path, default=None, help="Write the figures here as JSON.")
    args = parser.parse_args()
    schema = f"soak_{os.getpid()}"
    admin = make_engine(args.postgres)
    with admin.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    try:
        with tempfile.TemporaryDirectory(prefix="kholuu-soak-") as tmp:
            home = Path(tmp) / "home"
            home.mkdir()
            (home / "kholuu.toml").write_text(
                f'[virus_check]\ndatabase = "{SIGNATURES}"\n[planning]\nocr = false\nnormalize = false\n'
                "[access]\nargon2_time_cost = 1\nargon2_memory_kib = 64\nargon2_parallelism = 1\n",
                encoding="utf-8",
            )
            env = {k: v for k, v in os.environ.items() if not k.startswith("KHOLUU_")}
            env.update(
                KHOLUU_HOME=str(home),
                KHOLUU_DATABASE_URL=f"{args.postgres}?options=-csearch_path%3D{schema}",
                KHOLUU_LANG="en",
            )
            result = run(env, args)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'drop schema "{schema}" cascade'))
        admin.dispose()
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
