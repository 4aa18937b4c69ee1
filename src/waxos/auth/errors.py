"""What can go wrong in staff sign-in: the auth package's error tree."""

from __future__ import annotations


class AuthError(Exception):
    """Base of the auth package's errors."""


class InvalidCredentials(AuthError):
    """The email and password do not match an account (which of the two is wrong is not said)."""

    def __init__(self) -> None:
        super().__init__("invalid email or password")


class LoginThrottled(AuthError):
    """Too many failed logins for this account recently; try again after `retry_after` seconds."""

    why = "too many failed logins"

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"{self.why}; retry after {retry_after} s")


class AddressThrottled(LoginThrottled):
    """Too many login attempts from this client address recently, whatever the accounts."""

    why = "too many login attempts from this address"


class LoginBusy(AuthError):
    """Too many password verifications in progress or waiting; try again after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many logins in progress; retry after {retry_after} s")


class NotAuthenticated(AuthError):
    """No usable access token: missing, malformed, forged, expired, or its user no longer exists."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)
