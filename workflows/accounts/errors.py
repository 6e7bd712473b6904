"""Coded errors of accounts, logins and tokens (texts under ``[account]`` in the message catalogs).

A refused login says the same thing for an unknown login name, a wrong password and a disabled
account (``account.login_refused``), so that the answer never tells an attacker which names exist.
"""

from __future__ import annotations

from preservation.errors import ErrorKind, KholuuError


class AccountError(KholuuError):
    """A request about an account that cannot be done as asked (a bad login name, a short
    password, an agency where none belongs): the user can correct it."""

    code = "account.error"
    kind = ErrorKind.USAGE


class AccountNotFoundError(AccountError):
    """No such user (or token)."""

    code = "account.not_found"
    kind = ErrorKind.NOT_FOUND


class LoginRefusedError(AccountError):
    """Wrong login name or password, or a disabled account: one answer for all three."""

    code = "account.login_refused"
    kind = ErrorKind.REFUSED


class LoginThrottledError(AccountError):
    """Too many refused logins for this name or from this address: try again later."""

    code = "account.throttled"
    kind = ErrorKind.REFUSED

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, -(-retry_after // 60))
        super().__init__(
            f"too many refused logins; try again in {minutes} min",
            params={"minutes": minutes},
        )
        self.retry_after = retry_after


class TokenRefusedError(AccountError):
    """A bearer token that is unknown, revoked, or whose owner is disabled."""

    code = "account.token_refused"
    kind = ErrorKind.REFUSED


__all__ = [
    "AccountError",
    "AccountNotFoundError",
    "LoginRefusedError",
    "LoginThrottledError",
    "TokenRefusedError",
]
