"""Channels: our naming conventions (on the protocol's grammar) and the one channel policy (decision D6)."""
