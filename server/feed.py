"""``GET /feed``: the change feed, an LDES event stream (TREE) of what the caller may
read; closed pages are immutable, the newest one is revalidated (ETag, 304)."""

from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, request, url_for

from eti.catalogue import feed
from eti.catalogue.core import Catalogue

from . import conditional, current
from .auth import identity
from .errors import fail
from .rdfbody import rdf_response

bp = Blueprint("feed", __name__)

FEED_MEDIA = [
    "text/turtle",
    "application/ld+json",
    "application/n-triples",
    "application/trig",
    "application/n-quads",
]
_KEY = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z(~[a-z0-9][a-z0-9-]{0,127})?")
_YEAR = 365 * 24 * 3600


def _catalogue() -> Catalogue:
    return current_app.extensions["eti"]


def index() -> feed.FeedIndex:
    """The feed index of the catalogue this application serves."""
    kept = current_app.extensions.get("eti.feed")
    if kept is None:  # made once per application (a race makes two, and one is kept)
        cat = _catalogue()
        kept = feed.FeedIndex(
            cat.store,
            page_size=current.settings().feed_page_size,
            settle=current.settings().feed_settle,
        )
        kept = current_app.extensions.setdefault("eti.feed", kept)
    return kept


def _node(key: str) -> str:
    return url_for("feed.stream", page=key, _external=True)


def _media() -> str:
    media = request.accept_mimetypes.best_match(FEED_MEDIA, default=None)
    if media is None:
        if request.accept_mimetypes.provided:
            fail(406, "Not Acceptable", f"the feed is served as {', '.join(FEED_MEDIA)}")
        media = FEED_MEDIA[0]
    return media


@bp.get("/feed")
def stream() -> Response:
    """The event stream (no ``page``) or one of its pages (``page``: ``start`` or the
    time a page starts at, as its ``tree:node`` links give it)."""
    media = _media()
    iri = url_for("feed.stream", _external=True)
    key = request.args.get("page")
    headers = {"Vary": "Accept, Authorization"}
    cat, who = _catalogue(), identity()
    parties = feed.parties_of(cat.store, who)
    if key is None:
        quads = feed.stream_quads(iri, _node(feed.START), index().size(parties))
        response = rdf_response(quads, media, headers={**headers, "Cache-Control": "no-cache"})
        return conditional.by_content(response)
    if key != feed.START and not _KEY.fullmatch(key):
        fail(
            400,
            "Bad Request",
            f"page {key!r} is neither 'start' nor a time (YYYY-MM-DDTHH:MM:SSZ, then "
            "perhaps ~ and a product id): "
            "follow the tree:node links from /feed",
        )
    found = index().page(key, parties)
    if found is None:
        fail(404, "Not Found", f"no page of the feed starts at {key}: follow tree:view from /feed")
    tag = None
    if found.next_key is None:
        # the newest page, on the embedded store: a tag from its write generation and the
        # caller answers a poll with nothing new before the page is built (a closed page,
        # or a remote store: the tag is the body's hash)
        who_key = (who.role, who.org, who.channel, request.url_root, media)
        # the page's members too: an expiry joins it without a write
        tag = conditional.generation_tag(cat.store, "feed", key, who_key, found.entries)
        if hit := conditional.not_modified(tag, None, {**headers, "Cache-Control": "no-cache"}):
            return hit
    readable = None
    if who.role != "admin":
        access = cat.access(who)
        readable = access.opened | frozenset(access.graphs)
    reader = feed.Reader(index(), who, readable)
    quads = feed.page_quads(found, reader, iri, _node)
    if found.next_key is None:
        headers["Cache-Control"] = "no-cache"
    else:
        scope = "public" if who.anonymous else "private"
        headers["Cache-Control"] = f"{scope}, max-age={_YEAR}, immutable"
    response = rdf_response(quads, media, headers=headers)
    if tag is not None:
        return conditional.stamp(response, tag, None)
    return conditional.by_content(response)
