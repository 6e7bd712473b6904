"""docker-compose.yml (docs/deploy.md) runs what a queued deployment needs: PostgreSQL, the web
app, workers on both queues and the scheduler, all on one catalog. There is no Docker engine on
these machines, so the file is read and each service's command is checked against the command
line itself (every ``kholuu`` command and option it names exists)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from entrypoints.cli.main import main
from workflows.jobs.queue import DEFAULT_QUEUE, LARGE_QUEUE

COMPOSE = Path(__file__).resolve().parents[1] / "docker-compose.yml"


def services() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"])


def test_compose_has_the_catalog_web_workers_and_scheduler() -> None:
    found = services()
    assert {"db", "web", "worker", "worker-large", "scheduler"} <= set(found)
    assert found["db"]["image"].startswith("postgres:")
    kholuu = {name: s for name, s in found.items() if s.get("command", [""])[0] == "kholuu"}
    assert {name: s["command"][1] for name, s in kholuu.items()} == {
        "web": "serve",
        "worker": "worker",
        "worker-large": "worker",
        "scheduler": "scheduler",
    }
    assert "--scheduler" not in found["web"]["command"]  # one scheduler, its own service
    queues = {
        name: s["command"][s["command"].index("--queue") + 1]
        for name, s in kholuu.items()
        if "--queue" in s["command"]
    }
    assert queues == {
        "worker": DEFAULT_QUEUE,
        "worker-large": LARGE_QUEUE,
    }  # small ingests never wait behind large ones
    for name, service in kholuu.items():
        env = service["environment"]
        assert env["KHOLUU_DATABASE_URL"].startswith("postgresql+psycopg://"), name  # one catalog and queue
        assert env["KHOLUU_JOBS__DISPATCH"] == "queue", name
        assert service["depends_on"]["db"]["condition"] == "service_healthy", name
        assert any(v.startswith("kholuu-data:/srv/kholuu") for v in service["volumes"]), name


def test_every_compose_command_parses() -> None:
    """``--help`` after the service's own arguments: an unknown command or option fails, and
    nothing runs."""
    for name, service in services().items():
        command = service.get("command")
        if not command or command[0] != "kholuu":
            continue
        result = CliRunner().invoke(main, [*command[1:], "--help"])
        assert result.exit_code == 0, (name, result.output)
