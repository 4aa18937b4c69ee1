"""`waxos service-token`: a new service token for the AI worker, and the digest the server keeps."""

from __future__ import annotations

import click

from waxos.auth.service_tokens import new_service_token


@click.command("service-token")
def service_token_command() -> None:
    """Print a new service token and its SHA-256 digest (for WAXOS_SERVICE_TOKEN_SHA256).

    Give the token to the AI worker (it sends it as a bearer token); configure only the digest. Add the
    new digest beside the old one, move the worker over, then remove the old digest.
    """
    token, digest = new_service_token()
    click.echo(f"token (give to the AI worker, shown once): {token}")
    click.echo(f"WAXOS_SERVICE_TOKEN_SHA256={digest}")
