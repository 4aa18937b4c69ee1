"""Every text a request carries is refused at the door when it holds a control character.

The rule as a test: every `str` field of every request model and every `str` query or path parameter
of the API goes through `waxos.text` (tested on its own below), so a NUL byte is a 422, never a 500
from the database.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pytest
from fastapi import FastAPI, Query
from pydantic import BaseModel, TypeAdapter, ValidationError

from tests.support.accounts import make_settings, running_api
from waxos.app import create_app
from waxos.text import MultilineText, SingleLineText


def _loose_strings(schema: Any, components: dict[str, Any], where: str, seen: set[str]) -> list[str]:
    """Places in a JSON Schema where a string is accepted with no pattern, enum or const."""
    if not isinstance(schema, dict):
        return []
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        if name in seen:
            return []
        return _loose_strings(components[name], components, where, seen | {name})
    found = []
    if schema.get("type") == "string" and not {"pattern", "enum", "const", "format"} & set(schema):
        found.append(where)
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            found += _loose_strings(option, components, where, seen)
    for name, prop in schema.get("properties", {}).items():
        found += _loose_strings(prop, components, f"{where}.{name}", seen)
    for key in ("items", "additionalProperties"):
        found += _loose_strings(schema.get(key), components, f"{where}[]", seen)
    return found


def unchecked_text(openapi: dict[str, Any]) -> list[str]:
    """Request strings the API documents without a pattern (or enum): `METHOD path where`."""
    components = openapi.get("components", {}).get("schemas", {})
    problems = []
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                problems += _loose_strings(
                    parameter["schema"], components, f"{where} {parameter['name']}", set()
                )
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                problems += _loose_strings(content.get("schema"), components, f"{where} {media}", set())
    return problems


def test_every_request_text_of_the_api_is_checked(tmp_path: Any) -> None:
    # Strings through `waxos.text` document its pattern; hand-read fields document their own rules.
    app = create_app(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"))
    assert unchecked_text(app.openapi()) == []


class _Inner(BaseModel):
    note: str
    fine: SingleLineText


class _Body(BaseModel):
    ok: SingleLineText
    bare: str | None = None
    inner: list[_Inner]
    kind: Literal["a", "b"]


def test_the_scanner_finds_unchecked_text() -> None:
    app = FastAPI()

    @app.post("/x")
    async def x(body: _Body, q: str, p: Annotated[MultilineText, Query()]) -> None:
        """A route with some text checked and some not."""

    assert sorted(unchecked_text(app.openapi())) == [
        "POST /x application/json.bare",
        "POST /x application/json.inner[].note",
        "POST /x q",
    ]


@pytest.mark.parametrize("text", ["a\x00b", "tab\there", "line\nbreak", "del\x7f", "c1\x85", "\ud800"])
def test_single_line_text_refuses_every_control_character(text: str) -> None:
    with pytest.raises(ValidationError, match="control characters"):
        TypeAdapter(SingleLineText).validate_python(text)


def test_multiline_text_allows_layout_but_no_other_control() -> None:
    adapter = TypeAdapter(MultilineText)
    assert adapter.validate_python("two\r\nlines\tand a tab") == "two\r\nlines\tand a tab"
    for text in ["a\x00b", "bell\x07", "\ud800", "esc\x1b[31m"]:
        with pytest.raises(ValidationError, match="control characters"):
            adapter.validate_python(text)
    assert TypeAdapter(SingleLineText).validate_python("Zoë 👩‍💻 ok") == "Zoë 👩‍💻 ok"


async def test_a_nul_in_an_email_is_422_on_every_database(database_url: str) -> None:
    async with running_api(database_url) as api:
        for body in (
            {"email": "a\u0000b@acme.test", "password": "x"},
            {"email": "a@b.c", "password": "p\u0000"},
        ):
            response = await api.client.post("/api/v1/auth/login", json=body)
            assert response.status_code == 422, response.text
            assert response.json()["code"] == "invalid_request"
        token = api.world.token(api.world.acme_agent)
        response = await api.client.get(
            "/api/v1/realtime/events",
            params={"channel": "private-workspace-1.chats\x00", "after": 0},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 422
