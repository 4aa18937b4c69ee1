"""Which Pusher-compatible provider is active, its epoch, and the rules for switching (decision D7)."""
