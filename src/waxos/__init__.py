"""WAXOS real-time layer: publisher, channel auth, event log and relay, and a local Pusher server."""

__version__ = "0.1.0"
