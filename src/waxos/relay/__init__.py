"""The relay: delivers the event log to Pusher in per-channel order, with leases, lanes and backoff."""
