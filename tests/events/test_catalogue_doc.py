"""docs/events.md is exactly what the catalogue renders, so the documentation cannot drift from the code."""

from __future__ import annotations

from pathlib import Path

from waxos.api.router import all_event_producers
from waxos.events import CATALOGUE
from waxos.events.catalogue_doc import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def test_docs_events_md_is_up_to_date() -> None:
    assert DOC.read_text() == render(all_event_producers()), (
        "regenerate: python -m waxos.events.catalogue_doc > docs/events.md"
    )


def test_every_catalogued_event_and_field_is_documented() -> None:
    page = render(all_event_producers())
    for name, model in CATALOGUE.items():
        assert f"### `{name}`" in page
        for field in model.model_fields:
            if field != "type":
                assert f"| `{field}` |" in page


def test_every_catalogued_event_has_a_producer_route() -> None:
    producers = all_event_producers()
    assert sorted(set(producers) - set(CATALOGUE)) == [], "a route declares an event outside the catalogue"
    assert sorted(set(CATALOGUE) - set(producers)) == [], "a catalogued event that nothing emits"
