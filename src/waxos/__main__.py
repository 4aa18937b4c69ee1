"""Entry point for `python -m waxos`."""

from waxos.cli import main

main()
