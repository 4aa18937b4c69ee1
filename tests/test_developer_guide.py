"""The developer guide's example code exists and runs: it is `docs/examples/publish_from_a_route.py`."""

from __future__ import annotations

import importlib.util
import re
from types import ModuleType

from tests.support.accounts import build_world
from tests.support.asgi import asgi_client
from tests.support.environment import ROOT
from tests.support.events import log_rows
from tests.support.settings import make_settings
from waxos.app import create_app
from waxos.db.migrate import upgrade
from waxos.events import Envelope

GUIDE = ROOT / "docs" / "developer-guide.md"
EXAMPLE = ROOT / "docs" / "examples" / "publish_from_a_route.py"


def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("publish_from_a_route", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_guide_quotes_the_example_verbatim() -> None:
    source = EXAMPLE.read_text()
    quoted = source.split("# --- guide: start\n", 1)[1].split("# --- guide: end", 1)[0].strip()
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.S) if "emit(" in b]
    assert quoted in block, "the guide's publishing example differs from docs/examples"
    imports = [line for line in block.splitlines() if line.startswith(("from ", "import "))]
    assert imports and all(line in source.splitlines() for line in imports)


async def test_the_example_route_emits_in_its_transaction(database_url: str) -> None:
    await upgrade(database_url)
    app = create_app(make_settings(database_url))
    app.include_router(example().router)
    async with asgi_client(app) as client:
        world = await build_world(app.state.sessions)
        url = f"/api/v1/example/workspaces/{world.acme.id}/chats/7/messages/9/sent"
        sent = await client.post(url, headers={"Authorization": f"Bearer {world.token(world.acme_agent)}"})
        refused = await client.post(
            url, headers={"Authorization": f"Bearer {world.token(world.globex_admin)}"}
        )
        rows = await log_rows(app.state.sessions)
    assert sent.status_code == 200, sent.text
    assert sent.json() == {"channel": f"private-workspace-{world.acme.id}.chats", "seq": 1}
    assert refused.status_code == 404
    (row,) = rows
    envelope = Envelope.model_validate_json(row.payload)
    assert (envelope.type, envelope.seq, envelope.data["message_id"]) == ("message.new", 1, 9)
    assert envelope.data["sender_id"] == world.acme_agent.id
