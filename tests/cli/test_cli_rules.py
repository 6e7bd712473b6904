"""The command line's rule table (``entrypoints/cli/rules.py``): every command of the tree has a
rule; every command refuses, before doing anything, each role its rule leaves out; a command
without a rule is refused even to an administrator; and a few real runs in narrower roles."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from entrypoints.cli import main as cli
from entrypoints.cli.app import App
from entrypoints.cli.rules import COMMAND_RULES, apply_rules, command_paths
from repository.actor import Role
from repository.i18n import Translator
from tests.conftest import cli_env, run_cli, write_home_config

EN = Translator("en")
STAFF = [r for r in Role if r is not Role.PUBLIC]


def test_every_command_has_a_rule_and_every_rule_a_command() -> None:
    paths = {path for path, _ in command_paths(cli.main)}
    assert paths == set(COMMAND_RULES)
    assert {"user add", "token issue", "kpi", "report fixity", "ingest"} <= paths
    for path, roles in COMMAND_RULES.items():
        assert Role.ADMINISTRATOR in roles and Role.PUBLIC not in roles, path
    assert Role.AUDITOR not in set().union(
        *(
            roles
            for path, roles in COMMAND_RULES.items()
            if path in {"ingest", "audit", "migrate", "records restrict"}
        )
    )  # the auditor changes nothing


def refused_pairs() -> Iterator[tuple[str, Role]]:
    for path in sorted(COMMAND_RULES):
        for role in STAFF:
            if role not in COMMAND_RULES[path]:
                yield path, role


def command_at(path: str) -> click.Command:
    cli.main.load_all()  # every command module imported (a run imports only its own)
    command: click.Command = cli.main
    for name in path.split():
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


@pytest.mark.parametrize(("path", "role"), list(refused_pairs()), ids=lambda v: str(v).replace(" ", "-"))
def test_each_command_refuses_the_roles_its_rule_leaves_out(path: str, role: Role, tmp_path: Path) -> None:
    """The real command, called with nothing: the rule stops it before its body needs a value."""
    command = command_at(path)
    assert command.callback is not None
    app = App(home_option=str(tmp_path / "none"), language_option="en", role=role)
    with (
        click.Context(command, info_name=path.split()[-1], obj=app) as ctx,
        pytest.raises(SystemExit) as done,
    ):
        ctx.invoke(command.callback, **{p.name: None for p in command.params if p.name})
    assert done.value.code == 3
    assert not (tmp_path / "none").exists()  # nothing was done


def test_a_command_without_a_rule_is_refused_even_to_an_administrator(tmp_path: Path) -> None:
    ran: list[str] = []

    @cli.main.command("forgotten")
    def forgotten() -> None:
        ran.append("ran")

    try:
        apply_rules(cli.main)
        done = run_cli("forgotten", env=cli_env(tmp_path, "sqlite://"))
    finally:
        cli.main.commands.pop("forgotten")
    assert done.returncode == 3 and ran == []
    expected = {"role": "Administrator", "command": "kholuu forgotten"}
    assert EN.text("cli.role_refused", expected) in done.stderr


def test_real_runs_in_narrower_roles(tmp_path: Path, database_url: str) -> None:
    home = tmp_path / "home"
    write_home_config(home)
    env = cli_env(home, database_url)
    assert run_cli("init", "--json", env=env).returncode == 0
    assert run_cli("--role", "auditor", "init", env=env).returncode == 3
    report = run_cli(
        "--role",
        "auditor",
        "report",
        "fixity",
        "--since",
        "2026-01-01",
        "--out",
        str(tmp_path / "r.json"),
        "--format",
        "json",
        "--json",
        env=env,
    )
    assert report.returncode == 0, report.stderr
    refused = run_cli("--role", "auditor", "user", "list", "--json", env=env)
    assert refused.returncode == 3 and json.loads(refused.stdout)["error"]["code"] == "cli.role_refused"
    as_officer = run_cli(
        "transfer", "list", "--json", env=cli_env(home, database_url, KHOLUU_ROLE="records_officer")
    )  # allowed by the rule table, but a records officer acts for one agency: KHOLUU_AGENCY
    assert as_officer.returncode == 3, as_officer.stderr  # (tests/cli/test_cli_agency_scope.py)
    assert json.loads(as_officer.stdout)["error"]["code"] == "transfer.no_agency"
    assert run_cli("--role", "reader_services", "records", "restrictions", env=env).returncode == 0
    assert run_cli("--role", "records_officer", "kpi", "--json", env=env).returncode == 3
    assert run_cli("--role", "reader_services", "kpi", "--json", env=env).returncode == 0
    assert run_cli("--role", "public", "aip", "list", env=env).returncode == 2  # not a role to act in


def test_the_actor_of_a_command_has_its_role_and_the_person_it_acts_for() -> None:
    actor = App(home_option=None, language_option="en", role=Role.AUDITOR).actor("Nguyễn Văn A")
    assert (actor.role, actor.channel.value, actor.on_behalf) == (Role.AUDITOR, "cli", "Nguyễn Văn A")
    assert actor.signature().startswith("Nguyễn Văn A (via ")
    assert App(home_option=None, language_option=None).actor().role is Role.ADMINISTRATOR
