"""The `waxos` command: serve the API, check settings, publish, and the commands each part adds."""

from __future__ import annotations

import click

from waxos import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="waxos")
def main() -> None:
    """WAXOS real-time layer."""


# Commands of the other parts are registered below, one line each.
