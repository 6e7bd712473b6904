"""``kholuu init``: the data folder, its catalog and storage roots, and whether the virus check can scan."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import make_url

from entrypoints.cli.app import (
    CONFIG_TEMPLATE,
    App,
    current_app,
    handles_errors,
    main,
)
from entrypoints.errors import (
    EXIT_FAILED,
    EXIT_USAGE,
)
from repository.catalog.db import upgrade
from repository.settings import CONFIG_DIR, Settings
from repository.storage.errors import StorageError

# --------------------------------------------------------------------------- init


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--test-signatures",
    is_flag=True,
    help="No official ClamAV database on this machine: scan with the shipped EICAR-only test "
    "signatures (config/clamav), recorded as such in every virus-check event. For trying Kho Lưu only.",
)
@handles_errors
def init(as_json: bool, test_signatures: bool) -> None:
    """Create the data folder, the catalog (or upgrade it) and the storage roots, and say whether
    the virus check has signatures to scan with."""
    from repository.storage.locations import open_location as open_locations_one
    from repository.storage.locations import open_locations

    app = current_app()
    app.json_output = as_json
    settings = app.settings
    settings.home.mkdir(parents=True, exist_ok=True)
    for d in (settings.quarantine_dir, settings.work_dir):
        d.mkdir(parents=True, exist_ok=True)
    if not settings.config_file.exists():
        settings.config_file.write_text(CONFIG_TEMPLATE, encoding="utf-8")
    if test_signatures:
        _use_test_signatures(app)
        settings = app.settings
    revision = upgrade(app.engine)
    locations = open_locations(settings)
    problems: dict[str, StorageError] = {}
    for loc in settings.storage.locations:
        try:
            created = open_locations_one(settings, loc.name)
            created.store.initialize()
        except StorageError as exc:  # e.g. S3 down: the catalog is ready, the location is not
            problems[loc.name] = exc
    payload: dict[str, Any] = {
        "home": str(settings.home),
        "catalog": settings.database_url if not settings.catalog.url else _safe_url(settings.database_url),
        "schema_revision": revision,
        "locations": [
            {
                "name": loc.name,
                "role": loc.role,
                "root": loc.describe(),
                "ready": loc.name not in problems,
                "problem": {"code": problems[loc.name].code, "message": str(problems[loc.name])}
                if loc.name in problems
                else None,
            }
            for loc in locations
        ],
        "virus_check": virus_readiness(settings),
    }
    if as_json:
        app.emit(payload)
    else:
        t = app.t
        click.echo(t.text("cli.init.done", {"home": settings.home}))
        click.echo(f"  {t.label('catalog')}: {payload['catalog']} ({revision})")
        for loc in payload["locations"]:
            click.echo(f"  {t.label('location')} {loc['name']} ({loc['role']}): {loc['root']}")
            if loc["problem"]:
                problem = loc["problem"]
                text = t.text(problem["code"], {"location": loc["name"]}, default=problem["message"])
                click.echo(f"    {t.label('error')}: {text}", err=True)
        _echo_virus_readiness(app, payload["virus_check"])
    if any(name for name in problems if any(x.name == name and x.required for x in locations)):
        raise SystemExit(EXIT_FAILED)


TEST_SIGNATURES_DIR = CONFIG_DIR / "clamav"
"""The shipped EICAR-only test signature (config/clamav/README.md): proves the refusal path works,
detects no real virus."""


def virus_readiness(settings: Settings) -> dict[str, Any]:
    """Whether an ingest can scan: the signature folder in effect, and what is in it. ``kind`` is
    ``official`` (ClamAV's database), ``local`` (other signature files: every event says "LOCAL
    SIGNATURES ONLY"), or ``none`` (every ingest would fail with ``virus.no_database``)."""
    from preservation import virus
    from preservation.errors import ToolError

    vc = settings.virus_check
    database = settings.path(vc.database) if vc.database else virus.default_database_dir()
    try:
        info = virus.database_info(database)
    except ToolError as exc:
        return {"ready": False, "database": str(database), "kind": "none", "signatures": 0,
                "test_signatures": False, "problem": {"code": exc.code, "message": str(exc)}}  # fmt: skip
    test = Path(os.path.realpath(database)) == Path(os.path.realpath(TEST_SIGNATURES_DIR))
    return {
        "ready": True,
        "database": str(database),
        "kind": "official" if info.official else "local",
        "signatures": info.signatures,
        "test_signatures": test,
        "problem": None,
    }


def _echo_virus_readiness(app: App, ready: dict[str, Any]) -> None:
    """What the operator must do before the first ingest, in words (stderr: it is a warning)."""
    t = app.t
    params = {"database": ready["database"], "test_signatures": TEST_SIGNATURES_DIR}
    if not ready["ready"]:
        click.echo(f"  {t.label('error')}: {t.text('cli.init.no_signatures', params)}", err=True)
    elif ready["kind"] != "official":
        key = "cli.init.test_signatures" if ready["test_signatures"] else "cli.init.local_signatures"
        click.echo(f"  {t.text(key, params)}", err=True)
    else:
        params["signatures"] = ready["signatures"]
        click.echo(f"  {t.text('cli.init.official_signatures', params)}")


def _use_test_signatures(app: App) -> None:
    """Point ``[virus_check] database`` of the home kholuu.toml at the shipped test signatures, as
    scripts/demo does on an offline machine; refused when the file already sets a database (the
    operator chose one: we do not overwrite it)."""
    import tomllib

    path = app.settings.config_file
    text = path.read_text(encoding="utf-8")
    current = tomllib.loads(text).get("virus_check", {})
    if current.get("database"):
        chosen = app.settings.path(str(current["database"]))
        if os.path.realpath(chosen) == os.path.realpath(TEST_SIGNATURES_DIR):
            return  # already so: a second run changes nothing
        app.fail("cli.init.database_configured", f"{path} already sets [virus_check] database",
                 EXIT_USAGE, params={"config": str(path), "database": current["database"]})  # fmt: skip
    line = f"database = {json.dumps(str(TEST_SIGNATURES_DIR), ensure_ascii=False)}"
    comment = (
        "# kholuu init --test-signatures: EICAR test signature ONLY, no real virus is detected.\n"
        "# Replace with the official ClamAV database (docs: README, Using it) before real use.\n"
    )
    if "virus_check" in tomllib.loads(text):
        lines = text.splitlines(keepends=True)
        at = next(i for i, x in enumerate(lines) if x.strip() == "[virus_check]")
        lines.insert(at + 1, comment + line + "\n")
        text = "".join(lines)
    else:
        text = text.rstrip("\n") + "\n\n[virus_check]\n" + comment + line + "\n"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    app.__dict__.pop("settings", None)  # read the file again


def _safe_url(url: str) -> str:

    return make_url(url).render_as_string(hide_password=True)
