"""Local Pusher Channels-compatible server: a thin asyncio/ASGI adapter over `waxos.pusher_protocol`."""

from waxos.pusher_server.app import PusherServer, create_pusher_app
from waxos.pusher_server.config import ServerConfig
from waxos.pusher_server.runner import run

__all__ = ["PusherServer", "ServerConfig", "create_pusher_app", "run"]
