"""Password hashing: argon2id through argon2-cffi, with the parameters of ``[access]``.

A password is normalised to NFC before it is hashed or checked, so that the same Vietnamese
password typed on two keyboards (precomposed ``ệ`` or ``ê`` + combining dot) is the same password.
:func:`needs_rehash` tells whether a stored hash was made with other parameters, so that the
caller can remake it after the next successful login.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from repository.settings import AccessSettings
from workflows.accounts.errors import AccountError


@lru_cache(maxsize=8)
def hasher(access: AccessSettings) -> PasswordHasher:
    return PasswordHasher(
        time_cost=access.argon2_time_cost,
        memory_cost=access.argon2_memory_kib,
        parallelism=access.argon2_parallelism,
        type=Type.ID,
    )


def normal(password: str) -> str:
    return unicodedata.normalize("NFC", password)


def check_strength(password: str, access: AccessSettings) -> None:
    """Refuse a password too short for ``[access] password_min_length`` (counted in characters)."""
    length = len(normal(password))
    if length < access.password_min_length:
        raise AccountError(
            f"a password needs at least {access.password_min_length} characters ({length} given)",
            code="account.weak_password",
            params={"minimum": access.password_min_length, "length": length},
        )


def hash_password(password: str, access: AccessSettings) -> str:
    return hasher(access).hash(normal(password))


def verify_password(stored: str, password: str, access: AccessSettings) -> bool:
    """Whether ``password`` matches ``stored``; a malformed stored hash never matches."""
    try:
        return hasher(access).verify(stored, normal(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str, access: AccessSettings) -> bool:
    try:
        return hasher(access).check_needs_rehash(stored)
    except InvalidHashError:
        return True


@lru_cache(maxsize=8)
def decoy_hash(access: AccessSettings) -> str:
    """A hash to check an unknown login name against, so that a refusal takes as long for a name
    that does not exist as for a wrong password."""
    return hasher(access).hash("kholuu decoy password")


__all__ = ["check_strength", "decoy_hash", "hash_password", "needs_rehash", "normal", "verify_password"]
