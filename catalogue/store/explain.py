"""What a server said in an error answer, in one line (the store's errors and the command
line's calls to a running ``eti serve`` tell refusals the same way)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import requests

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


def explain(response: requests.Response) -> str:
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
