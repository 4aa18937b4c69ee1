"""Usage: hourly roll-ups of events, messages and live connections per workspace, kept in the database."""
