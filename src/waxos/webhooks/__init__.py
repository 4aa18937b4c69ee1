"""Pusher webhooks: verify a delivery, and record what it says (staff presence, occupied channels, usage)."""
