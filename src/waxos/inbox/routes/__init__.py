"""The inbox's HTTP routes, one router per resource, combined into `router`."""

from __future__ import annotations

from fastapi import APIRouter

from waxos.inbox.routes import chats, invitations, members, messages, notifications, suggestions

router = APIRouter()
for _resource in (chats, messages, suggestions, notifications, members, invitations):
    router.include_router(_resource.router)
