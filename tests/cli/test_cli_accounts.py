"""``kholuu user`` and ``kholuu token`` as an operator runs them, on SQLite and PostgreSQL: a
password typed twice at a prompt or piped with --password-stdin (never an argument), the
account's rules and exit codes, and a token that works against the web app until revoked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from entrypoints.web import create_app
from repository.catalog.accounts import UserAccount
from repository.catalog.db import make_engine, session_factory
from repository.i18n import Translator
from repository.settings import load_settings
from tests.accounts import FAST_ARGON2
from tests.conftest import CliRun, cli_env, run_cli, write_home_config

EN = Translator("en")
PASSWORD = "mật khẩu đủ dài 2026"


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    home = tmp_path / "home"
    write_home_config(home, FAST_ARGON2)
    env = cli_env(home, database_url)
    assert run_cli("init", "--json", env=env).returncode == 0
    return env


def kholuu(*args: str, env: dict[str, str], input: str | None = None) -> CliRun:
    return run_cli(*args, env=env, input=input)


def test_user_add_list_disable_enable_and_passwd(env: dict[str, str]) -> None:
    added = kholuu("user", "add", "Lan.Nguyen", "--name", "Nguyễn Thị Lan", "--role", "auditor",
                   env=env, input=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == EN.text("cli.user.added", {"login": "lan.nguyen", "role": "Auditor"})
    assert PASSWORD not in added.stdout + added.stderr  # the prompt does not echo it
    assert "Password" in added.stderr  # asked on stderr, twice
    listed = json.loads(kholuu("user", "list", "--json", env=env).stdout)
    assert listed["count"] == 1
    (user,) = listed["users"]
    expected = {"login": "lan.nguyen", "display_name": "Nguyễn Thị Lan", "role": "auditor", "agency": ""}
    assert {k: user[k] for k in (*expected, "active")} == expected | {"active": True}
    assert "password" not in json.dumps(listed) and "argon2" not in json.dumps(listed)
    disabled = kholuu("user", "disable", "LAN.NGUYEN", env=env)
    assert disabled.returncode == 0 and "disabled" in disabled.stdout
    assert "[disabled]" in kholuu("user", "list", env=env).stdout
    assert kholuu("user", "enable", "lan.nguyen", env=env).returncode == 0
    new = "một mật khẩu khác hẳn"
    changed = kholuu("user", "passwd", "lan.nguyen", "--password-stdin", env=env, input=new + "\n")
    assert changed.returncode == 0 and changed.stdout.strip() == EN.text(
        "cli.user.password_set", {"login": "lan.nguyen"}
    )
    log = json.loads(kholuu("auditlog", "show", "--json", env=env).stdout)
    rows = [(r["action"], r["target"]) for r in log["entries"]]
    assert rows == [(f"user.{a}", "lan.nguyen") for a in ("add", "disable", "enable", "passwd")], rows
    assert new not in json.dumps(log) and PASSWORD not in json.dumps(log)
    settings = load_settings(Path(env["KHOLUU_HOME"]), environ=env)
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as s:
            stored = s.scalars(select(UserAccount.password_hash)).one()
        from workflows.accounts.passwords import verify_password

        assert verify_password(stored, new, settings.access) and not verify_password(
            stored, PASSWORD, settings.access
        )
    finally:
        engine.dispose()


def test_refusals_and_exit_codes(env: dict[str, str]) -> None:
    mismatch = kholuu("user", "add", "an", "--role", "auditor", env=env, input=f"{PASSWORD}\n{PASSWORD}x\n")
    assert mismatch.returncode == 2 and EN.text("cli.user.password_mismatch") in mismatch.stderr
    short = kholuu("user", "add", "an", "--role", "auditor", "--password-stdin", env=env, input="ngắn\n")
    assert short.returncode == 2
    assert EN.text("account.weak_password", {"minimum": 12, "length": 4}) in short.stderr
    empty = kholuu("user", "add", "an", "--role", "auditor", "--password-stdin", env=env, input="\n")
    assert empty.returncode == 2 and EN.text("cli.user.password_empty") in empty.stderr
    no_agency = kholuu(
        "user", "add", "vt", "--role", "records_officer", "--password-stdin", env=env, input=PASSWORD
    )
    assert no_agency.returncode == 2 and "--agency" in no_agency.stderr
    unknown_agency = kholuu("user", "add", "vt", "--role", "records_officer", "--agency", "H49.77",
                            "--password-stdin", env=env, input=PASSWORD)  # fmt: skip
    assert unknown_agency.returncode == 4
    assert kholuu("records", "agency", "add", "H49.01", "Sở Nội vụ", env=env).returncode == 0
    ok = kholuu("user", "add", "vt", "--role", "records_officer", "--agency", "H49.01",
                "--password-stdin", "--json", env=env, input=PASSWORD)  # fmt: skip
    assert ok.returncode == 0 and json.loads(ok.stdout)["user"]["agency"] == "H49.01"
    taken = kholuu(
        "user", "add", "VT", "--role", "auditor", "--password-stdin", "--json", env=env, input=PASSWORD
    )
    assert taken.returncode == 2 and json.loads(taken.stdout)["error"]["code"] == "account.exists"
    public = kholuu("user", "add", "pub", "--role", "public", "--password-stdin", env=env, input=PASSWORD)
    assert public.returncode == 2  # not a choice: the public has no accounts
    missing = kholuu("user", "disable", "ai.do", env=env)
    assert missing.returncode == 4 and EN.text("account.not_found", {"login": "ai.do"}) in missing.stderr
    assert kholuu("user", "passwd", "ai.do", "--password-stdin", env=env, input=PASSWORD).returncode == 4
    assert kholuu("token", "revoke", "42", env=env).returncode == 4
    assert "--password" not in kholuu("user", "add", "--help", env=env).stdout.replace("--password-stdin", "")


def test_a_token_is_shown_once_and_works_until_revoked(env: dict[str, str]) -> None:
    assert kholuu("records", "agency", "add", "H49.01", "Sở Nội vụ", env=env).returncode == 0
    kholuu("user", "add", "vt", "--role", "records_officer", "--agency", "H49.01", "--password-stdin",
           env=env, input=PASSWORD)  # fmt: skip
    issued = kholuu("token", "issue", "vt", "--label", "máy nộp lưu", env=env)
    assert issued.returncode == 0 and EN.text("cli.token.issued", {"id": 1, "login": "vt"}) in issued.stderr
    token = issued.stdout.strip()
    assert token.startswith("klu_")
    listed = kholuu("token", "list", "--json", env=env)
    (row,) = json.loads(listed.stdout)["tokens"]
    assert token not in listed.stdout and row["prefix"] == token[:12] and row["label"] == "máy nộp lưu"
    assert row["last_used_at"] is None and row["revoked_at"] is None
    settings = load_settings(Path(env["KHOLUU_HOME"]), environ=env)
    engine = make_engine(settings.database_url)
    try:
        client = create_app(settings, session_factory(engine)).test_client()
        who = client.get("/api/whoami", headers={"Authorization": f"Bearer {token}"})
        assert who.status_code == 200 and who.json is not None and who.json["agency"] == "H49.01"
        assert json.loads(kholuu("token", "list", "--user", "vt", "--json", env=env).stdout)["tokens"][0][
            "last_used_at"
        ]
        assert kholuu("token", "revoke", "1", env=env).stdout.strip() == EN.text(
            "cli.token.revoked", {"id": 1}
        )
        assert client.get("/api/whoami", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        assert "revoked" in kholuu("token", "list", env=env).stdout
    finally:
        engine.dispose()


def test_user_role_and_the_last_administrator(env: dict[str, str]) -> None:
    stdin = f"{PASSWORD}\n"
    assert (
        kholuu(
            "user", "add", "quan.tri", "--role", "administrator", "--password-stdin", env=env, input=stdin
        ).returncode
        == 0
    )
    assert kholuu("records", "agency", "add", "H49.09", "Sở Nội vụ", env=env).returncode == 0
    assert (
        kholuu("user", "add", "lan", "--role", "auditor", "--password-stdin", env=env, input=stdin).returncode
        == 0
    )
    moved = kholuu("user", "role", "lan", "--role", "records_officer", "--agency", "H49.09", env=env)
    assert moved.returncode == 0, moved.stderr
    listed = json.loads(kholuu("user", "list", "--json", env=env).stdout)["users"]
    assert {u["login"]: (u["role"], u["agency"]) for u in listed}["lan"] == ("records_officer", "H49.09")
    for refused in (("user", "role", "quan.tri", "--role", "auditor"), ("user", "disable", "quan.tri")):
        r = kholuu("--lang", "en", *refused, env=env)
        assert r.returncode == 3, r.stderr
        assert EN.text("account.last_administrator", {"login": "quan.tri"}) in r.stderr
    no_agency = kholuu("user", "role", "lan", "--role", "records_officer", env=env)
    assert no_agency.returncode == 2 and "account" not in no_agency.stdout
