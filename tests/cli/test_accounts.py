"""`waxos service-token` prints a token the server accepts once its printed digest is configured."""

from __future__ import annotations

from click.testing import CliRunner

from waxos.auth.service_tokens import is_service_token, service_token_accepted
from waxos.cli.main import main


def test_service_token_prints_a_token_and_the_digest_that_accepts_it() -> None:
    result = CliRunner().invoke(main, ["service-token"])
    assert result.exit_code == 0, result.output
    token_line, digest_line = result.output.splitlines()
    token = token_line.rsplit(" ", 1)[1]
    digest = digest_line.removeprefix("WAXOS_SERVICE_TOKEN_SHA256=")
    assert is_service_token(token) and len(token) > 40
    assert service_token_accepted(token, [digest])
    assert not service_token_accepted(token + "x", [digest])
    assert token not in digest_line
