"""Real-time: publisher, channel names, event catalogue, channel policy, event log, relay, catch-up."""
