"""The command line's calls to a running ``eti serve`` (``--server URL --token T``): made
with ``eti.client`` (the integrators' client), and a refusal always told as the server
said it (status, error, detail), never an HTML page dumped as something else."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import requests
from requests import Response

from eti.client import Client

from .store.explain import explain


class ServerRefused(Exception):
    """A server that did not answer, or refused: the message to print and the exit code
    (1 a shared rule is broken, 2 anything else); ``lines`` are printed before it."""

    def __init__(self, message: str, code: int = 2, lines: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message, self.code, self.lines = message, code, list(lines)


def request(server: str, token: str | None, method: str, path: str, **kwargs: Any) -> Response:
    """A request to the server at ``server`` through ``eti.client`` (bearer ``token`` when
    given); ServerRefused when it does not answer or refuses."""
    client = Client(server, token=token, timeout=120)
    try:
        response = client.request(method, path, **kwargs)
    except requests.RequestException as exc:
        raise ServerRefused(f"{client.url}{path} does not answer: {exc}") from None
    if response.status_code >= 400:
        raise refusal(response)
    return response


def call(server: str, token: str | None, method: str, path: str, **kwargs: Any) -> Any:
    """The JSON body of a successful answer (None when it has none); see ``request``."""
    response = request(server, token, method, path, **kwargs)
    return response.json() if "json" in response.headers.get("Content-Type", "") else None


def refusal(response: Response) -> ServerRefused:
    """A refusal told as the server said it: exit 1 with the SHACL report's results for a
    broken rule, else 2."""
    body = None
    if "json" in response.headers.get("Content-Type", ""):
        try:
            body = response.json()
        except ValueError:
            body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, dict) and "report" in detail:
        lines = [
            f"  {r['severity']}: {r['focus']} {r['path'] or ''}: {r['message']['en']}"
            for r in detail["report"]["results"]
        ]
        return ServerRefused(explain(response), 1, lines)
    return ServerRefused(f"the server answered {explain(response)}")
