"""The validator's inputs: a body, a file, standard input or a URL, in any RDF syntax,
read safely (pyoxigraph's parsers, no remote contexts, no external entities) and
handed to ``validation.validate`` as the union of its graphs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import rdflib

from . import rdfio
from .fetch import FetchError, fetch


class InputError(ValueError):
    """Input the validator cannot read; ``status`` is the HTTP status that fits."""

    def __init__(self, message: str, status: int = 400, where: dict | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.where = where


def graph_of(
    data: bytes,
    *,
    media_type: str | None = None,
    filename: str | None = None,
    fmt: str | None = None,
    source: str = "<input>",
) -> rdflib.Graph:
    """The union graph of ``data`` in the syntax named, told by media type or extension."""
    if not data.strip():
        raise InputError(f"{source}: the input is empty")
    try:
        rdf_format = rdfio.format_for(media_type=media_type, filename=filename, name=fmt)
    except rdfio.RdfInputError as exc:
        raise InputError(exc.reason, status=415) from None
    try:
        quads = rdfio.parse_quads(data, rdf_format, source=source)
    except rdfio.RdfInputError as exc:
        raise InputError(str(exc), where=exc.to_dict()) from None
    from .validation import quiet_ill_typed_literals

    with quiet_ill_typed_literals():  # an ill-typed literal is a finding, not a traceback
        return rdfio.to_rdflib_graph(quads)


def graph_of_url(
    url: str,
    *,
    allow_private: bool = False,
    max_bytes: int = 10 * 1024 * 1024,
    fmt: str | None = None,
) -> rdflib.Graph:
    """Fetch ``url`` (only public http(s) addresses unless allowed) and read it."""
    try:
        fetched = fetch(url, allow_private=allow_private, max_bytes=max_bytes)
    except FetchError as exc:
        raise InputError(str(exc)) from None
    return graph_of(
        fetched.content,
        media_type=fetched.media_type,
        filename=fetched.url,
        fmt=fmt,
        source=fetched.url,
    )


def parse_profiles(values: Sequence[str]) -> list[str] | None:
    """Profiles from repeated or comma-separated values; None for all."""
    from .validation import PROFILES

    names = [p.strip() for v in values for p in v.split(",") if p.strip()]
    unknown = [p for p in names if p not in PROFILES]
    if unknown:
        raise InputError(f"unknown profile {', '.join(unknown)}; use {', '.join(PROFILES)}")
    return names or None


def parse_as_of(value: str | None) -> dt.date | None:
    """An 'as of' date in ISO form, or None for today."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"as-of date {value!r} is not a date (YYYY-MM-DD)") from None
