"""Conditional requests (RFC 9110 §13): ``ETag`` and ``Last-Modified`` on reads, and a
``304 Not Modified`` when the caller's copy is still the answer.

Two kinds of validator:

- a whole answer built in memory (a product read) is tagged by a hash of its bytes, so
  the tag changes exactly when the answer does, for any store;
- a streamed answer (a SPARQL query, a Graph Store read) is tagged before it is run, by
  the embedded store's write generation, this process's start, the day (views change by
  date) and what decides the answer (query, media type, the caller's view): any write
  gives a new tag, and a tag from another process or an earlier run never matches. A
  remote store is written by others too, so such answers get no tag there.

``Last-Modified`` is the moment this process saw the embedded store's last write (its
start, for writes before it), or a product's record time when nothing finer is known.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import weakref
from datetime import datetime

from flask import Response, request
from werkzeug.http import is_resource_modified

from eti.catalogue import clock
from eti.catalogue.store import OxigraphStore, Store

_RUN = secrets.token_hex(8)  # this process: a generation counted elsewhere never matches
_SEEN: weakref.WeakKeyDictionary[Store, tuple[int, datetime]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def write_time(store: Store) -> datetime | None:
    """When this process last saw ``store`` written (None for a remote store)."""
    if not isinstance(store, OxigraphStore):
        return None
    generation = store.generation
    with _LOCK:
        seen = _SEEN.get(store)
        if seen is None or seen[0] != generation:
            seen = (generation, clock.now().replace(microsecond=0))
            _SEEN[store] = seen
    return seen[1]


def generation_tag(store: Store, *parts: object) -> str | None:
    """An entity tag for an answer decided by ``parts`` over the store as it is now
    (None for a remote store: its writes are not all counted here)."""
    if not isinstance(store, OxigraphStore):
        return None
    digest = hashlib.sha256()
    for part in (_RUN, store.generation, clock.today(), *parts):
        digest.update(repr(part).encode("utf-8", "replace") + b"\0")
    return "g-" + digest.hexdigest()[:32]


def not_modified(
    etag: str | None, last_modified: datetime | None, headers: dict[str, str] | None = None
) -> Response | None:
    """A 304 when the request's ``If-None-Match`` (or, without it, ``If-Modified-Since``)
    says the caller holds this answer; None when the answer must be sent."""
    if request.method not in ("GET", "HEAD") or (etag is None and last_modified is None):
        return None
    if not (request.headers.get("If-None-Match") or request.headers.get("If-Modified-Since")):
        return None
    if is_resource_modified(request.environ, etag=etag, last_modified=last_modified):
        return None
    return stamp(Response(status=304, headers=headers), etag, last_modified)


def stamp(response: Response, etag: str | None, last_modified: datetime | None) -> Response:
    """Put the validators on an answer."""
    if etag is not None:
        response.set_etag(etag)
    if last_modified is not None:
        response.last_modified = last_modified
    return response


def by_content(response: Response, last_modified: datetime | None = None) -> Response:
    """A complete answer: tagged by a hash of its bytes, turned into a 304 when the
    caller's copy is the same."""
    digest = hashlib.sha256(response.get_data()).hexdigest()[:32]
    stamp(response, digest, last_modified)
    kept = {k: v for k, v in response.headers.items() if k not in _BODY_HEADERS}
    if response.status_code == 200 and (hit := not_modified(digest, last_modified, kept)):
        return hit
    return response


_BODY_HEADERS = {"Content-Length", "Content-Type", "ETag", "Last-Modified"}


def changed_at(store: Store, recorded: str | None) -> datetime | None:
    """``Last-Modified`` of an answer about a product recorded as changed at ``recorded``:
    the later of that and this process's last write (an agreement changes what a caller
    reads without a new version); None for a remote store, whose writes are not all seen."""
    seen = write_time(store)
    if seen is None:
        return None
    if recorded:
        try:
            return max(seen, datetime.fromisoformat(recorded.replace("Z", "+00:00")))
        except ValueError:
            return seen
    return seen
