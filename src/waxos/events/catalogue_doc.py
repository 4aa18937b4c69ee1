"""Renders the event catalogue as Markdown, so docs/events.md is generated from the models, never drifts.

Each event lists its producers: the routes that declare emitting it (`waxos.api.openapi.emits`).
Regenerate with `python -m waxos.events.catalogue_doc > docs/events.md`; a test compares the two.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

from waxos.events.catalogue import CATALOGUE, Event
from waxos.events.envelope import Envelope

_HEADER = """# Event catalogue

Generated from `src/waxos/events/catalogue.py` by `python -m waxos.events.catalogue_doc`; do not edit.

Every event reaches pusher-js as the Pusher event named by `type`, with this envelope as its data, and
the catch-up endpoint `GET /api/v1/realtime/events` serves the same envelopes. Payloads carry ids and
metadata only: fetch message bodies and people's details through the API.
"""


def _type_of(schema: dict[str, Any]) -> str:
    if "const" in schema:
        return f"`{schema['const']}`"
    if "enum" in schema:
        return " \\| ".join(f"`{value}`" for value in schema["enum"])
    if "anyOf" in schema:
        return " or ".join(_type_of(option) for option in schema["anyOf"])
    if schema.get("type") == "array":
        return f"list of {_type_of(schema.get('items', {}))}"
    kind = str(schema.get("type", "any"))
    if schema.get("format") == "date-time":
        return "UTC timestamp (ISO 8601)"
    if kind == "integer" and schema.get("exclusiveMinimum") == 0:
        return "positive integer"
    if "pattern" in schema:
        return f"{kind} matching `{schema['pattern']}`"
    return kind


def _fields(model: type[Any], skip: frozenset[str] = frozenset()) -> list[str]:
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    rows = ["| field | type | required | meaning |", "|---|---|---|---|"]
    for name, prop in schema["properties"].items():
        if name in skip:
            continue
        meaning = prop.get("description", "")
        rows.append(f"| `{name}` | {_type_of(prop)} | {'yes' if name in required else 'no'} | {meaning} |")
    return rows


def _doc(model: type[Event]) -> str:
    return inspect.cleandoc(model.__doc__ or "")


def _produced_by(routes: Sequence[str]) -> str:
    if not routes:
        return "Produced by: nothing yet."
    return "Produced by: " + ", ".join(f"`{route}`" for route in routes) + "."


def render(producers: Mapping[str, Sequence[str]]) -> str:
    """The whole catalogue page; `producers` maps each event type to the routes that emit it."""
    lines = [_HEADER, "## Envelope", "", *_fields(Envelope), "", "## Events", ""]
    for name, model in sorted(CATALOGUE.items()):
        lines += [
            f"### `{name}`",
            "",
            _doc(model),
            "",
            _produced_by(producers.get(name, ())),
            "",
            "`data`:",
            "",
            *_fields(model, frozenset({"type"})),
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    from waxos.api.router import all_event_producers  # the routes sit above this package

    print(render(all_event_producers()), end="")  # noqa: T201 - the module's output is the document
