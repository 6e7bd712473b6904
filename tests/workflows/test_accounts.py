"""Accounts on SQLite and PostgreSQL: argon2id hashes (NFC passwords, rehash when the parameters
change), the rules of a user (login names, roles, agencies), the throttle per login name and per
address with its window, API tokens kept as hashes, and the actor a session stands for."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from repository.actor import Channel, Role
from repository.catalog.accounts import ApiToken, LoginFailure, UserAccount
from repository.catalog.records_core import RecordNotFoundError
from repository.catalog.records_store import add_agency
from repository.settings import AccessSettings, Settings
from workflows.accounts.errors import (
    AccountError,
    AccountNotFoundError,
    LoginRefusedError,
    LoginThrottledError,
    TokenRefusedError,
)
from workflows.accounts.tokens import authenticate_token, issue_token, list_tokens, revoke_token
from workflows.accounts.users import (
    authenticate,
    create_user,
    find_user,
    session_actor,
    set_active,
    set_password,
)

FAST = AccessSettings(argon2_time_cost=1, argon2_memory_kib=64, argon2_parallelism=1)
PASSWORD = "Nguyễn Thị Lan 1975"
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def access(settings: Settings) -> AccessSettings:
    assert settings.access.argon2_memory_kib == 65536  # the shipped parameters
    return FAST


def add(
    sessions: sessionmaker[Session], access: AccessSettings, login: str = "Lan.Nguyen", **kw: object
) -> None:
    with sessions.begin() as s:
        fields: dict[str, object] = {
            "display_name": "Nguyễn Thị Lan",
            "role": Role.AUDITOR,
            "password": PASSWORD,
        }
        create_user(s, access, login=login, **(fields | kw))  # type: ignore[arg-type]


def login_as(
    sessions: sessionmaker[Session],
    access: AccessSettings,
    login: str,
    password: str,
    *,
    address: str = "10.0.0.1",
    now: datetime = T0,
) -> object:
    with sessions.begin() as s:
        try:
            return authenticate(s, access, login, password, address=address, now=now)
        except (LoginRefusedError, LoginThrottledError) as exc:
            return exc  # committed: the failure is counted


def test_password_is_an_argon2id_hash_and_the_login_gives_the_actor(
    sessions: sessionmaker[Session], access: AccessSettings
) -> None:
    add(sessions, access)
    with sessions() as s:
        user = find_user(s, "LAN.NGUYEN")
        assert user.login == "lan.nguyen" and user.display_name == "Nguyễn Thị Lan"
        assert user.password_hash.startswith("$argon2id$v=19$m=64,t=1,p=1$")
        assert PASSWORD not in user.password_hash
    decomposed = unicodedata.normalize("NFD", PASSWORD)  # the same password from another keyboard
    assert decomposed != PASSWORD
    done = login_as(sessions, access, " Lan.Nguyen ", decomposed)
    assert not isinstance(done, Exception)
    actor = done.actor  # type: ignore[attr-defined]
    assert (actor.name, actor.role, actor.channel, actor.address) == (
        "lan.nguyen",
        Role.AUDITOR,
        Channel.WEB,
        "10.0.0.1",
    )
    with sessions() as s:
        assert find_user(s, "lan.nguyen").last_login_at == T0


def test_hash_is_remade_when_the_parameters_change(
    sessions: sessionmaker[Session], access: AccessSettings
) -> None:
    add(sessions, access)
    stronger = replace(access, argon2_time_cost=2, argon2_memory_kib=128)
    assert isinstance(login_as(sessions, stronger, "lan.nguyen", "wrong password!"), LoginRefusedError)
    with sessions() as s:
        assert "m=64,t=1" in find_user(s, "lan.nguyen").password_hash  # not remade on a failure
    assert not isinstance(login_as(sessions, stronger, "lan.nguyen", PASSWORD), Exception)
    with sessions() as s:
        user = find_user(s, "lan.nguyen")
        assert user.password_hash.startswith("$argon2id$v=19$m=128,t=2,p=1$")
        assert user.password_changed_at == user.created_at  # the same password: sessions stay open
    assert not isinstance(login_as(sessions, stronger, "lan.nguyen", PASSWORD), Exception)


def test_the_rules_of_an_account(sessions: sessionmaker[Session], access: AccessSettings) -> None:
    with sessions.begin() as s:
        add_agency(s, "H49.01", "Sở Nội vụ tỉnh An Giang")
    cases: list[tuple[dict[str, object], str]] = [
        ({"login": "a b"}, "account.bad_login"),
        ({"login": "x"}, "account.bad_login"),
        ({"password": "ngắn"}, "account.weak_password"),
        ({"role": Role.PUBLIC}, "account.public_role"),
        ({"role": Role.RECORDS_OFFICER}, "account.agency_required"),
        ({"agency": "H49.01"}, "account.agency_not_allowed"),
    ]
    for change, code in cases:
        with pytest.raises(AccountError) as raised:
            add(sessions, access, **change)
        assert raised.value.code == code, change
    with pytest.raises(RecordNotFoundError):
        add(sessions, access, role=Role.RECORDS_OFFICER, agency="H49.99")
    add(sessions, access, login="vanthu.h4901", role=Role.RECORDS_OFFICER, agency="H49.01")
    add(sessions, access, login="Lê.Văn.Tám")  # a Vietnamese login name, kept NFC
    with pytest.raises(AccountError) as taken:
        add(sessions, access, login="LÊ.VĂN.TÁM")
    assert taken.value.code == "account.exists"
    with sessions() as s:
        logins = {u.login: u.agency for u in s.scalars(select(UserAccount))}
    assert logins == {"vanthu.h4901": "H49.01", unicodedata.normalize("NFC", "lê.văn.tám"): ""}
    with pytest.raises(AccountNotFoundError), sessions() as s:
        find_user(s, "ai.do")


def test_refusals_and_a_disabled_account(sessions: sessionmaker[Session], access: AccessSettings) -> None:
    add(sessions, access)
    assert isinstance(login_as(sessions, access, "ai.do", PASSWORD), LoginRefusedError)
    assert isinstance(login_as(sessions, access, "lan.nguyen", PASSWORD.upper()), LoginRefusedError)
    with sessions.begin() as s:
        set_active(s, "lan.nguyen", False)
    assert isinstance(login_as(sessions, access, "lan.nguyen", PASSWORD), LoginRefusedError)
    with sessions.begin() as s:
        set_active(s, "lan.nguyen", True)
    assert not isinstance(login_as(sessions, access, "lan.nguyen", PASSWORD), Exception)


def test_throttle_per_login_name_with_its_window(
    sessions: sessionmaker[Session], access: AccessSettings
) -> None:
    add(sessions, access)
    limit, window = access.login_max_failures, access.login_window_seconds
    for i in range(limit):
        at = T0 + timedelta(seconds=10 * i)
        assert isinstance(login_as(sessions, access, "lan.nguyen", "sai", now=at), LoginRefusedError)
    late = T0 + timedelta(seconds=100)
    throttled = login_as(sessions, access, "lan.nguyen", PASSWORD, now=late)  # right, and refused
    assert isinstance(throttled, LoginThrottledError)
    assert throttled.retry_after == window - 100  # until the first failure leaves the window
    other = login_as(sessions, access, "lan.nguyen", PASSWORD, address="10.9.9.9", now=late)
    assert isinstance(other, LoginThrottledError)  # per name, from any address
    with sessions() as s:  # throttled attempts are not counted
        assert s.scalar(select(text("count(*)")).select_from(LoginFailure)) == limit
    assert not isinstance(
        login_as(sessions, access, "lan.nguyen", PASSWORD, now=T0 + timedelta(seconds=window)), Exception
    )
    with sessions() as s:  # a success clears the name's failures
        assert s.scalars(select(LoginFailure).where(LoginFailure.login == "lan.nguyen")).all() == []


def test_throttle_per_address(sessions: sessionmaker[Session], access: AccessSettings) -> None:
    tight = replace(access, login_max_failures_per_address=3)
    add(sessions, tight)
    for i, name in enumerate(("an", "binh", "chi")):  # three names tried from one address
        assert isinstance(
            login_as(sessions, tight, name, "x", now=T0 + timedelta(seconds=i)), LoginRefusedError
        )
    blocked = login_as(sessions, tight, "lan.nguyen", PASSWORD, now=T0 + timedelta(seconds=5))
    assert isinstance(blocked, LoginThrottledError)
    elsewhere = login_as(
        sessions, tight, "lan.nguyen", PASSWORD, address="10.0.0.2", now=T0 + timedelta(seconds=5)
    )
    assert not isinstance(elsewhere, Exception)


def test_failures_older_than_the_window_are_forgotten(
    sessions: sessionmaker[Session], access: AccessSettings
) -> None:
    add(sessions, access)
    login_as(sessions, access, "an", "x", now=T0)
    login_as(sessions, access, "binh", "x", now=T0 + timedelta(seconds=access.login_window_seconds + 1))
    with sessions() as s:
        assert [f.login for f in s.scalars(select(LoginFailure))] == ["binh"]


def test_a_session_ends_with_a_new_password_or_a_disabled_account(
    sessions: sessionmaker[Session], access: AccessSettings
) -> None:
    add(sessions, access)
    done = login_as(sessions, access, "lan.nguyen", PASSWORD)
    stamp = done.stamp  # type: ignore[attr-defined]
    with sessions() as s:
        actor = session_actor(s, "lan.nguyen", stamp, channel=Channel.WEB, address="10.0.0.1")
    assert actor is not None and actor.role is Role.AUDITOR
    with sessions.begin() as s:
        set_password(s, access, "lan.nguyen", "mật khẩu mới rất dài", now=T0 + timedelta(hours=1))
    with sessions() as s:
        assert session_actor(s, "lan.nguyen", stamp, channel=Channel.WEB, address="") is None
    with pytest.raises(AccountError) as short, sessions.begin() as s:
        set_password(s, access, "lan.nguyen", "ngắn")
    assert short.value.params == {"minimum": 12, "length": 4}


def test_tokens_are_kept_as_hashes_and_stop_when_revoked_or_the_owner_is_disabled(
    sessions: sessionmaker[Session], access: AccessSettings
) -> None:
    with sessions.begin() as s:
        add_agency(s, "H49.01", "Sở Nội vụ tỉnh An Giang")
    add(sessions, access, login="vanthu", role=Role.RECORDS_OFFICER, agency="H49.01")
    with sessions.begin() as s:
        first = issue_token(s, "VanThu", "máy nộp lưu")
        second = issue_token(s, "vanthu", "báo cáo")
    assert first.token.startswith("klu_") and len(first.token) > 40 and first.token != second.token
    with sessions() as s:
        rows = list_tokens(s, "vanthu")
        dump = " ".join(str(v) for r in s.scalars(select(ApiToken)) for v in vars(r).values())
    assert [r.label for r in rows] == ["máy nộp lưu", "báo cáo"]
    assert first.token not in dump and first.token[:12] in dump  # its hash and its first characters
    with sessions.begin() as s:
        actor = authenticate_token(s, first.token, address="10.1.1.1", now=T0)
    assert (actor.name, actor.role, actor.agency, actor.channel) == (
        "vanthu",
        Role.RECORDS_OFFICER,
        "H49.01",
        Channel.API,
    )
    with sessions() as s:
        assert list_tokens(s)[0].last_used_at == T0
    with sessions.begin() as s:
        revoke_token(s, first.id)
    with pytest.raises(TokenRefusedError), sessions.begin() as s:
        authenticate_token(s, first.token)
    with sessions.begin() as s:
        set_active(s, "vanthu", False)
    with pytest.raises(TokenRefusedError), sessions.begin() as s:
        authenticate_token(s, second.token)
    with pytest.raises(TokenRefusedError), sessions.begin() as s:
        authenticate_token(s, "klu_" + "x" * 43)
    with pytest.raises(AccountNotFoundError) as missing, sessions.begin() as s:
        revoke_token(s, 999)
    assert missing.value.code == "account.token_not_found"
