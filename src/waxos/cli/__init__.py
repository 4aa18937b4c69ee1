"""The `waxos` command line: `main.py` is the group, `context.py` what all commands share."""
