"""The command line's calls to a running ``eti serve`` (``--server URL --token T``): made
with ``eti.client`` (the integrators' client), and a refusal always told as the server
said it (status, error, detail), never an HTML page dumped as something else."""

from __future__ import annotations

import re
from collections.abc import Sequence
from html.parser import HTMLParser
from typing import Any

import requests
from requests import Response

from eti.client import Client


class ServerRefused(Exception):
    """A server that did not answer, or refused: the message to print and the exit code
    (1 a shared rule is broken, 2 anything else); ``lines`` are printed before it."""

    def __init__(self, message: str, code: int = 2, lines: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message, self.code, self.lines = message, code, list(lines)


_HIDDEN = ("script", "style", "nav", "header", "footer")


class _Text(HTMLParser):
    """The visible words of an HTML page (its title and body, no scripts or styles)."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in _HIDDEN:
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.words.append(data.strip())


def explain(response: Response) -> str:
    """What a server said in an error answer, in one line: ``401 Unauthorized: this needs
    a bearer token``. JSON errors give their error and detail, plain text its first lines,
    an HTML page its visible words (shortened, and called a page: it is likely not the
    endpoint meant)."""
    head = f"{response.status_code} {response.reason or ''}".strip()
    media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if media.endswith("json"):
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            detail = body.get("detail")
            if isinstance(detail, dict):
                detail = detail.get("message") or detail
            said = ": ".join(str(p) for p in (body.get("error"), detail) if p)
            return f"{head}: {said}" if said else head
    text = response.text or ""
    if media == "text/html" or text.lstrip().lower().startswith(("<!doctype", "<html")):
        parser = _Text()
        parser.feed(text)
        words = " ".join(parser.words)
        return f"{head}, an HTML page: {words[:300]}"
    text = re.sub(r"\s+", " ", text).strip()
    return f"{head}: {text[:500]}" if text else head


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
