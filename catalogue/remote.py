"""The command line's calls to a running ``eti serve`` (``--server URL --token T``): one
request helper, and a refusal always told as the server said it (status, error, detail),
never an HTML page dumped as something else."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import requests

from .store.explain import explain


class ServerRefused(Exception):
    """A server that did not answer, or refused: the message to print and the exit code
    (1 a shared rule is broken, 2 anything else); ``lines`` are printed before it."""

    def __init__(self, message: str, code: int = 2, lines: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message, self.code, self.lines = message, code, list(lines)


def call(method: str, url: str, token: str | None, **kwargs: Any) -> requests.Response:
    """A request to a running server (bearer ``token`` when given); ServerRefused when it
    does not answer at all."""
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        return requests.request(method, url, headers=headers, timeout=120, **kwargs)
    except requests.RequestException as exc:
        raise ServerRefused(f"{url} does not answer: {exc}") from None


def answer(response: requests.Response) -> Any:
    """The JSON body of a successful answer (None when it has none); a refusal as
    ServerRefused: exit 1 with the SHACL report's results for a broken rule, else 2."""
    if response.status_code < 400:
        if "json" in response.headers.get("Content-Type", ""):
            return response.json()
        return None
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
        raise ServerRefused(explain(response), 1, lines)
    raise ServerRefused(f"the server answered {explain(response)}")


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Rows under a header, each column as wide as its widest cell (the last one free)."""
    cells = [[str(c) if c not in (None, "") else "-" for c in row] for row in rows]
    widths = [max(len(r[i]) for r in [list(header), *cells]) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=False)) + "  " + r[-1]
        for r in [list(header), *cells]
    ]
    return "\n".join(line.rstrip() for line in lines)
