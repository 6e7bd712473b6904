"""``kholuu user`` and ``kholuu token``: staff accounts of the web app and API tokens for machines.

Passwords are never arguments (they would be in the shell history and in ``ps``): they are typed
at a prompt (twice), or read as one line from standard input with ``--password-stdin`` for
scripts. A token is printed once, on stdout, when it is issued; the catalog keeps only its hash.
"""

from __future__ import annotations

import sys

import click

from entrypoints.cli.app import EXIT_USAGE, App, current_app, handles_errors, main
from repository.actor import Role
from repository.catalog.auditlog import record_action
from workflows.accounts import tokens, users

STAFF_ROLES = [r.value for r in users.STAFF_ROLES]
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
STDIN_OPTION = click.option(
    "--password-stdin", is_flag=True, help="Read the password as one line from standard input (scripts)."
)


def _password(app: App, from_stdin: bool) -> str:
    t = app.t
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            app.fail("cli.user.password_empty", "no password on standard input", EXIT_USAGE)
        return password
    first = click.prompt(t.text("cli.user.password_prompt"), hide_input=True, err=True)
    second = click.prompt(t.text("cli.user.password_confirm"), hide_input=True, err=True)
    if first != second:
        app.fail("cli.user.password_mismatch", "the two passwords differ", EXIT_USAGE)
    return str(first)


# --------------------------------------------------------------------------- user


@main.group()
def user() -> None:
    """Staff accounts of the web app: add, list, disable, enable, change the role, set a password."""


@user.command("add")
@click.argument("login")
@click.option("--name", "display_name", default="", help="Full name shown in the web app.")
@click.option("--role", type=click.Choice(STAFF_ROLES), required=True)
@click.option(
    "--agency", default="", metavar="ORGAN_ID", help="Records officers: their agency's mã định danh."
)
@STDIN_OPTION
@JSON_OPTION
@handles_errors
def user_add(
    login: str, display_name: str, role: str, agency: str, password_stdin: bool, as_json: bool
) -> None:
    """Create an account (the password is asked for, or read with --password-stdin)."""
    app = current_app()
    app.json_output = as_json
    password = _password(app, password_stdin)
    with app.sessions.begin() as session:
        row = users.create_user(
            session,
            app.settings.access,
            login=login,
            display_name=display_name,
            role=Role(role),
            password=password,
            agency=agency,
        )
        shown = users.user_dict(row)
        params = {"role": role, "agency": agency, "display_name": display_name}
        record_action(session, app.actor(), "user.add", row.login, params)
    if as_json:
        app.emit({"user": shown})
        return
    click.echo(app.t.text("cli.user.added", {"login": shown["login"], "role": app.t.text(f"role.{role}")}))


@user.command("list")
@JSON_OPTION
@handles_errors
def user_list(as_json: bool) -> None:
    """List the accounts."""
    app = current_app()
    app.json_output = as_json
    with app.sessions() as session:
        rows = [users.user_dict(u) for u in users.list_users(session)]
    if as_json:
        app.emit({"users": rows, "count": len(rows)})
        return
    if not rows:
        click.echo(app.t.text("cli.user.none"), err=True)
    for r in rows:
        state = "" if r["active"] else "  [disabled]"
        agency = f"  {r['agency']}" if r["agency"] else ""
        click.echo(f"{r['login']:<24} {r['role']:<21} {r['display_name']}{agency}{state}")


def _set_active(login: str, active: bool) -> None:
    app = current_app()
    with app.sessions.begin() as session:
        folded = users.set_active(session, login, active, by=app.actor()).login
        record_action(session, app.actor(), "user.enable" if active else "user.disable", folded, {})
    click.echo(app.t.text("cli.user.enabled" if active else "cli.user.disabled", {"login": folded}))


@user.command("disable")
@click.argument("login")
@handles_errors
def user_disable(login: str) -> None:
    """Disable an account: its sessions and API tokens stop working (it is never deleted)."""
    _set_active(login, False)


@user.command("enable")
@click.argument("login")
@handles_errors
def user_enable(login: str) -> None:
    """Enable a disabled account again."""
    _set_active(login, True)


@user.command("role")
@click.argument("login")
@click.option("--role", type=click.Choice(STAFF_ROLES), required=True)
@click.option(
    "--agency", default="", metavar="ORGAN_ID", help="Records officers: their agency's mã định danh."
)
@handles_errors
def user_role(login: str, role: str, agency: str) -> None:
    """Give an account another role (the last active administrator keeps theirs)."""
    app = current_app()
    with app.sessions.begin() as session:
        folded = users.set_role(session, login, Role(role), agency=agency).login
        record_action(session, app.actor(), "user.role", folded, {"role": role, "agency": agency.strip()})
    click.echo(app.t.text("cli.user.role_set", {"login": folded, "role": app.t.text(f"role.{role}")}))


@user.command("passwd")
@click.argument("login")
@STDIN_OPTION
@handles_errors
def user_passwd(login: str, password_stdin: bool) -> None:
    """Set a new password; the account's open web sessions end."""
    app = current_app()
    with app.sessions() as session:
        users.find_user(session, login)  # an unknown name before the password is typed
    password = _password(app, password_stdin)
    with app.sessions.begin() as session:
        folded = users.set_password(session, app.settings.access, login, password).login
        record_action(session, app.actor(), "user.passwd", folded, {})  # never the password
    click.echo(app.t.text("cli.user.password_set", {"login": folded}))


# --------------------------------------------------------------------------- token


@main.group()
def token() -> None:
    """API tokens for machines (Authorization: Bearer … on /api/…)."""


@token.command("issue")
@click.argument("login")
@click.option("--label", required=True, help="What the token is for (shown in `kholuu token list`).")
@JSON_OPTION
@handles_errors
def token_issue(login: str, label: str, as_json: bool) -> None:
    """Issue a token acting as LOGIN; it is printed once, on stdout."""
    app = current_app()
    app.json_output = as_json
    with app.sessions.begin() as session:
        issued = tokens.issue_token(session, login, label)
        record_action(session, app.actor(), "token.issue", issued.login, {"id": issued.id, "label": label})
    if as_json:
        app.emit({"id": issued.id, "login": issued.login, "label": issued.label, "token": issued.token})
        return
    click.echo(app.t.text("cli.token.issued", {"id": issued.id, "login": issued.login}), err=True)
    click.echo(issued.token)


@token.command("revoke")
@click.argument("token_id", type=int)
@handles_errors
def token_revoke(token_id: int) -> None:
    """Revoke a token (its number from `kholuu token list`)."""
    app = current_app()
    with app.sessions.begin() as session:
        tokens.revoke_token(session, token_id)
        record_action(session, app.actor(), "token.revoke", str(token_id), {"id": token_id})
    click.echo(app.t.text("cli.token.revoked", {"id": token_id}))


@token.command("list")
@click.option("--user", "login", default=None, help="Only this user's tokens.")
@JSON_OPTION
@handles_errors
def token_list(login: str | None, as_json: bool) -> None:
    """List tokens (never the tokens themselves: their first characters)."""
    app = current_app()
    app.json_output = as_json
    with app.sessions() as session:
        rows = [tokens.token_dict(r) for r in tokens.list_tokens(session, login)]
    if as_json:
        app.emit({"tokens": rows, "count": len(rows)})
        return
    if not rows:
        click.echo(app.t.text("cli.token.none"), err=True)
    for r in rows:
        state = f"revoked {r['revoked_at']}" if r["revoked_at"] else f"last used {r['last_used_at'] or '-'}"
        click.echo(f"{r['id']:>4}  {r['prefix']}…  {r['login']:<20} {r['label']}  ({state})")
