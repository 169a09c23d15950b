"""The store: one small interface, two implementations.

- ``OxigraphStore`` (``embedded``): pyoxigraph on disk in a data folder (the default).
- ``RemoteStore`` (``remote``): any SPARQL 1.1 Query + Update endpoint reached over
  HTTP; what differs from engine to engine is in ``dialects``.

Both answer queries with pyoxigraph result objects, so callers (the SPARQL
protocol, the registry) never care which one they hold. Verbs come in pairs:
query/update, load/dump, and graphs are replaced whole (see ``eti.catalogue.graphs``).
The store imports no domain module of the catalogue.
"""

from __future__ import annotations

from pathlib import Path

from .base import (
    DEFAULT_GRAPH,
    RESULT_FORMATS,
    GraphRefused,
    Progress,
    ProgressReader,
    QuerySyntaxError,
    Result,
    Store,
    StoreDeadlock,
    StoreError,
    StoreLockedError,
    StoreTimeout,
    Term,
    bind_inline,
    graph_terms,
)
from .embedded import FLUSH_AFTER, FLUSH_EVERY, OxigraphStore, locked_message
from .remote import RemoteStore, endpoint_urls

__all__ = [
    "DEFAULT_GRAPH",
    "FLUSH_AFTER",
    "FLUSH_EVERY",
    "RESULT_FORMATS",
    "GraphRefused",
    "OxigraphStore",
    "Progress",
    "ProgressReader",
    "QuerySyntaxError",
    "RemoteStore",
    "Result",
    "Store",
    "StoreDeadlock",
    "StoreError",
    "StoreLockedError",
    "StoreTimeout",
    "Term",
    "bind_inline",
    "endpoint_urls",
    "graph_terms",
    "locked_message",
    "open_store",
]


def open_store(
    path: Path | str | None = None,
    url: str | None = None,
    *,
    update_url: str | None = None,
    token: str | None = None,
    engine: str = "oxigraph",
    generation_ttl: float = 0.0,
) -> Store:
    """The remote store when ``url`` is given (speaking ``engine``'s dialect), else the
    embedded store at ``path``."""
    if url:
        return RemoteStore(
            url, update_url=update_url, token=token, engine=engine, generation_ttl=generation_ttl
        )
    return OxigraphStore(path if path is not None else Path("var/store"))
