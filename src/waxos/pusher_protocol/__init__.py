"""Sans-I/O Pusher Channels protocol 7 and HTTP API: pure state machines, no sockets, no clock.

Imports nothing from the rest of waxos, so the local server's protocol can be tested as text in and
text out, and reused by any I/O layer.
"""

from waxos.pusher_protocol.app import PusherApp
from waxos.pusher_protocol.config import AppConfig
from waxos.pusher_protocol.errors import CloseCode
from waxos.pusher_protocol.http_api import HttpRequest, HttpResponse, handle_http
from waxos.pusher_protocol.output import Close, Output, Send
from waxos.pusher_protocol.webhooks import WebhookEvent, WebhookRequest, build_webhook

__all__ = [
    "AppConfig",
    "Close",
    "CloseCode",
    "HttpRequest",
    "HttpResponse",
    "Output",
    "PusherApp",
    "Send",
    "WebhookEvent",
    "WebhookRequest",
    "build_webhook",
    "handle_http",
]
