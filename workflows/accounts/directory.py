"""Where a login name and password are checked: the catalog's own accounts, or (an extension
point) a directory such as LDAP.

:func:`workflows.accounts.users.authenticate` handles the throttle, the failure count and the
actor; it asks a :class:`Directory` only whether the password is right. :class:`LocalDirectory`
checks the argon2id hash kept in ``user_account``. An LDAP directory would implement the same
method: bind as the user (``ldap3``: ``Connection(server, user=dn, password=password).bind()``),
map the user's groups to a :class:`repository.actor.Role`, and create or update the
``user_account`` row (with an unusable password hash, so that the account cannot log in locally),
returning it; docs/web.md says how it would be configured. None is built in.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from repository.catalog.accounts import UserAccount
from repository.settings import AccessSettings
from workflows.accounts.passwords import decoy_hash, hash_password, needs_rehash, verify_password


class Directory(Protocol):
    """Checks a login name (already folded) and password; the account when they are right, else
    None. It must take about as long for an unknown name as for a wrong password."""

    def check(self, session: Session, login: str, password: str) -> UserAccount | None: ...


class LocalDirectory:
    """The accounts of the catalog, with argon2id hashes; a hash made with other parameters than
    ``[access]``'s is remade once the password is known to be right."""

    def __init__(self, access: AccessSettings) -> None:
        self.access = access

    def check(self, session: Session, login: str, password: str) -> UserAccount | None:
        user = session.scalars(select(UserAccount).where(UserAccount.login == login)).first()
        if user is None:
            verify_password(decoy_hash(self.access), password, self.access)
            return None
        if not verify_password(user.password_hash, password, self.access):
            return None
        if needs_rehash(user.password_hash, self.access):
            user.password_hash = hash_password(password, self.access)
        return user


__all__ = ["Directory", "LocalDirectory"]
