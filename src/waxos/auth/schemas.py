"""Request and response bodies of the sign-in endpoints."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from waxos.auth.models import EMAIL_LENGTH, Role
from waxos.text import SingleLineText

# Long enough for any passphrase, short enough that nobody makes us hash megabytes.
MAX_PASSWORD_LENGTH = 1024


class LoginRequest(BaseModel):
    """An email and password."""

    model_config = ConfigDict(extra="ignore")

    email: Annotated[
        SingleLineText, Field(min_length=3, max_length=EMAIL_LENGTH, examples=["agent@acme.test"])
    ]
    password: Annotated[SingleLineText, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]


class TokenResponse(BaseModel):
    """A bearer access token; send it as `Authorization: Bearer <access_token>`."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105  (the OAuth 2 token type, not a secret)
    expires_in: Annotated[int, Field(description="seconds until the token expires")]


class WorkspaceRole(BaseModel):
    """A workspace the user belongs to, and their role there."""

    id: int
    name: str
    role: Role


class MeResponse(BaseModel):
    """The signed-in user and their workspaces."""

    id: int
    email: str
    name: str
    is_operator: bool = Field(description="A platform operator: may announce to every workspace")
    workspaces: list[WorkspaceRole]
