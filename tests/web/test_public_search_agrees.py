"""``kholuu records search --public`` and the public catalog's search (``/api/v1/search``) apply
one rule of what a reader may see (``workflows.access.public.PUBLIC``): on the seeded holdings with
closed records of every kind (mode 02, mode 03, on the restriction list; a closed tài liệu in an
open hồ sơ), both find the same records for the same words, and neither finds a closed one, which
the staff search (no ``--public``) does find. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from entrypoints.web import create_app
from repository.catalog.models import Aip, AipStatus
from repository.settings import Settings
from tests.catalog.test_records import make_record_set, register
from tests.conftest import cli_env, run_cli
from tests.public_seed import SECRET_WORDS, seed

UNHELD = "neontitle"  # an open hồ sơ whose AIP is not held (its storing failed)
QUERIES = (
    UNHELD,
    "hồ sơ",
    "ho so",
    "quyết định",
    "báo cáo",
    "ảnh",
    "hội nghị",
    *(t for t, _ in SECRET_WORDS.values()),
)


def test_cli_and_web_public_search_find_the_same_records(
    settings: Settings, sessions: sessionmaker[Session], home: Path, database_url: str
) -> None:
    seed(sessions)
    with sessions.begin() as s:  # the older rule (mode and list only) showed this one
        unheld = register(s, make_record_set("H49.64.33.2004.9", title=f"Hồ sơ {UNHELD}"))
        s.execute(update(Aip).where(Aip.id == unheld.aip_id).values(status=AipStatus.FAILED))
    client = create_app(settings, sessions).test_client()
    env = cli_env(home, database_url)
    closed_titles = {t for t, _ in SECRET_WORDS.values()} | {UNHELD}
    for query in QUERIES:
        r = client.get("/api/v1/search", query_string={"q": query})
        assert r.status_code == 200, r.text
        web = {(h["dossier"]["code"], h["title"]) for h in r.get_json()["hits"]}
        run = run_cli("records", "search", query, "--public", "--json", env=env)
        assert run.returncode == 0, run.stderr
        cli = {(h.get("dossier_code", h["code"]), h["title"]) for h in json.loads(run.stdout)["results"]}
        assert cli == web, query
        assert not any(w in title.lower() for _, title in cli for w in closed_titles), query
    staff = run_cli("records", "search", "kryptontitle", "--json", env=env)
    assert json.loads(staff.stdout)["count"] == 3  # the listed hồ sơ and its two tài liệu: closed, not absent
    assert json.loads(run_cli("records", "search", UNHELD, "--json", env=env).stdout)["count"] >= 1
    assert web_count(client, "hồ sơ") >= 2  # the open ones: the comparison compared something
    assert web_count(client, "hồ sơ") == len(
        json.loads(run_cli("records", "search", "hồ sơ", "--public", "--json", env=env).stdout)["results"]
    )


def web_count(client: object, query: str) -> int:
    r = client.get("/api/v1/search", query_string={"q": query})  # type: ignore[attr-defined]
    return len(r.get_json()["hits"])
