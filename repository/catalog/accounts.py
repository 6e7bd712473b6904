"""Staff accounts of the web app and the API: users, their API tokens, and failed logins.

A user has one :class:`repository.actor.Role`; a records officer also names the source agency
(its mã định danh) whose transfers they submit and see. Passwords are kept only as argon2id
hashes (``workflows.accounts.passwords``) and API tokens only as the SHA-256 of the token, so a
copy of the catalog gives nobody a way in. ``login_failure`` holds one row per refused login
attempt, by login name and client address, for the throttle (``[access] login_*`` settings);
rows older than the throttle window are deleted as new ones come in.

Accounts are not preservation data: a catalog rebuilt from storage has none (docs/web.md).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from repository.actor import Role
from repository.catalog.base import Base, Sha256, Timestamp, enum_column


class UserAccount(Base):
    """A person who logs in to the web app (or owns API tokens)."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)  # NFC, case-folded
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role, length=32))
    agency: Mapped[str] = mapped_column(String(13), default="")  # records officers: mã định danh
    password_hash: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp]
    password_changed_at: Mapped[Timestamp]  # sessions opened before it are no longer valid
    last_login_at: Mapped[datetime | None]

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")


class ApiToken(Base):
    """A bearer token for machines (``Authorization: Bearer klu_…`` on ``/api/…``). Only the
    SHA-256 of the token is kept; the token itself is shown once, when it is issued."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[Sha256] = mapped_column(unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the token's first characters, to recognise it
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[Timestamp]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[UserAccount] = relationship(back_populates="tokens")


class LoginFailure(Base):
    """One refused login attempt: the login name tried (as typed, folded) and the client address."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[Timestamp] = mapped_column(index=True)


__all__ = ["ApiToken", "LoginFailure", "UserAccount"]
