"""Entry point for `python -m waxos`."""

from waxos.cli.main import main

main()
