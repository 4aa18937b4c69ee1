"""What routes declare for the documentation: the events each one emits (`x-emits` in the OpenAPI).

`docs/events.md` lists each catalogued event's producers from these declarations, and the inbox tests
check that a route emits what it declares.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from waxos.events import Event

EMITS = "x-emits"


def emits(*events: type[Event]) -> dict[str, Any]:
    """`openapi_extra` for a route that emits `events` (catalogue models)."""
    return {EMITS: [event.model_fields["type"].default for event in events]}


def event_producers(app: FastAPI) -> dict[str, list[str]]:
    """Each event type, with the `METHOD /path` of every operation of `app` that declares emitting it."""
    producers: dict[str, list[str]] = {}
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            for event_type in operation.get(EMITS, ()):
                producers.setdefault(event_type, []).append(f"{method.upper()} {path}")
    return producers
