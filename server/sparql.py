"""SPARQL 1.1 Protocol: ``/sparql`` queries over the caller's view, streamed.

GET, POST form-encoded and POST direct (``application/sparql-query``, UTF-8); the
dataset from ``default-graph-uri`` / ``named-graph-uri`` (within the caller's view);
the answer's syntax from ``format=`` (for browsers) or ``Accept``; 406 when no
offered syntax is acceptable; 400 with the parser's message and position. A GET
without a query answers the service description (see ``service``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from flask import Blueprint, Response, current_app, g, has_request_context, request

from eti.catalogue import sparqlguard, sparqltext
from eti.catalogue.auth import Identity
from eti.catalogue.core import QueryRefused
from eti.catalogue.executor import Answer, QueryFailed, QueryTimeout

from . import conditional, current, metrics
from .agreements import duty_headers
from .auth import identity, purpose
from .errors import fail
from .negotiation import (
    GRAPH_ALIASES,
    GRAPH_NAMES,
    GRAPHS,
    SOLUTION_ALIASES,
    SOLUTION_NAMES,
    SOLUTIONS,
    negotiate,
    not_acceptable,
)
from .rdfbody import utf8
from .service import service_description

bp = Blueprint("sparql", __name__)
log = logging.getLogger("eti.server")

QUERY_PARAMETERS = ("query", "default-graph-uri", "named-graph-uri")
_ABSOLUTE_IRI = re.compile(r"^<[A-Za-z][A-Za-z0-9+.\-]*:")


def _utf8_body() -> str:
    """The body of a direct POST, which the protocol requires in UTF-8."""
    utf8(request.mimetype_params, "the body")
    try:
        return request.get_data(cache=True).decode("utf-8")
    except UnicodeDecodeError as exc:
        fail(400, "Bad Request", f"the body is not valid UTF-8: {exc}")
    return ""


def posted_text(param: str, direct: str, article: str, elsewhere: tuple[str, str]) -> str | None:
    """The operation text of a form POST or a direct POST (SPARQL 1.1 Protocol §2.1, §2.2):
    ``param`` names the form field, ``direct`` the media type of a direct POST; a form
    carrying only ``elsewhere[0]`` gets the hint ``elsewhere[1]``. 400 for more than one,
    415 for any other body."""
    if request.mimetype == direct:
        if param in request.args:
            fail(400, "Bad Request", f"a direct POST carries the {param} in its body only")
        values = [_utf8_body()]
    elif request.mimetype == "application/x-www-form-urlencoded":
        values = request.values.getlist(param)
        if not values and elsewhere[0] in request.values:
            fail(400, "Bad Request", elsewhere[1])
    else:
        fail(
            415,
            "Unsupported Media Type",
            f"POST {article} {param} as {direct} or application/x-www-form-urlencoded",
        )
    if len(values) > 1:
        fail(400, "Bad Request", f"more than one {param} given (parameter '{param}')")
    return values[0] if values else None


def query_text() -> str | None:
    """The query of a GET, a form POST or a direct POST (SPARQL 1.1 Protocol §2.1);
    400 for more than one query, 415 for any other POST body."""
    if request.method in ("GET", "HEAD"):
        values = request.args.getlist("query")
        if len(values) > 1:
            fail(400, "Bad Request", "more than one query given (parameter 'query')")
        return values[0] if values else None
    return posted_text(
        "query",
        "application/sparql-query",
        "a",
        ("update", "updates are POSTed to /update (SPARQL 1.1 Update)"),
    )


def with_base(text: str, base: str) -> tuple[str, int]:
    """``text`` with ``BASE <base>`` before it when it holds a relative IRI (the
    service's base IRI is its endpoint), and how many lines that added."""
    if any(k == "iri" and not _ABSOLUTE_IRI.match(v) for k, v in sparqltext._tokens(text)):
        return f"BASE <{base}>\n{text}", 1
    return text, 0


def query_hash(text: str) -> str:
    """The prefix of the query's SHA-256 the logs carry (never the query itself)."""
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:16]


class BodyAborted(RuntimeError):
    """A streamed answer stopped after its first bytes (time limit, worker failure)."""


class Body:
    """A streamed body that already holds its first chunk; closing it closes the rest
    (which hands the query worker back, or stops it)."""

    def __init__(self, first: bytes, rest: Iterator[bytes]) -> None:
        self.first = first
        self.rest = rest
        self.on_timeout: Callable[[], None] | None = None
        self.request_id = g.get("request_id") if has_request_context() else None

    def __iter__(self) -> Iterator[bytes]:
        if self.first:
            yield self.first
        try:
            yield from self.rest
        except (QueryTimeout, QueryFailed) as exc:
            # The status line is gone already: the only honest signal left is to end the
            # connection without the last chunk, so the client sees a broken body (an
            # error in every HTTP client), never a complete-looking 200.
            if isinstance(exc, QueryTimeout) and self.on_timeout is not None:
                self.on_timeout()
            log.warning(
                json.dumps({"request_id": self.request_id, "aborted": True, "reason": str(exc)})
            )
            raise BodyAborted(str(exc)) from None

    def close(self) -> None:
        close = getattr(self.rest, "close", None)
        if close is not None:
            close()


def start(answer: Answer) -> Body:
    """Read the answer's first chunk before any byte is sent, so that an error that
    comes before it (a time limit, a worker failing) is still a clean error answer."""
    chunks = iter(answer.chunks)
    try:
        first = next(chunks)
    except StopIteration:
        first = b""
    return Body(first, chunks)


def fair_share(who: Identity) -> dict[str, Any]:
    """The caller's key for ``per_caller_queries`` (its token, or its address when
    anonymous) and its time limit (``query_timeout_anonymous`` when anonymous)."""
    limits = current.settings()
    if who.anonymous:
        limit = min(limits.query_timeout_anonymous, limits.query_timeout)
        return {"caller": f"address {request.remote_addr}", "timeout": limit}
    return {"caller": f"token {who.token_id or who.name or who.role}", "timeout": None}


def answer(graphs: list[str] | None = None) -> Response:
    """Run the request's query over ``graphs`` (default: what the caller may read) and
    stream the answer."""
    text = query_text()
    if not text or not text.strip():
        fail(400, "Bad Request", "no query given (parameter 'query')")
    try:
        info = sparqlguard.examine(text)
    except ValueError as exc:  # answered as every refused query is (errors.problem_of)
        raise QueryRefused(str(exc)) from None
    g.log_extra = {**g.get("log_extra", {}), "query_hash": query_hash(text), "form": info.form}
    kind = {"SELECT": "solutions", "ASK": "solutions", "CONSTRUCT": "graph", "DESCRIBE": "graph"}
    wanted = kind.get(info.form or "")
    solutions = negotiate(SOLUTIONS, SOLUTION_ALIASES, SOLUTION_NAMES)
    graph = negotiate(GRAPHS, GRAPH_ALIASES, GRAPH_NAMES)
    if wanted == "solutions" and solutions is None:
        not_acceptable(SOLUTIONS)
    if wanted == "graph" and graph is None:
        not_acceptable(GRAPHS)
    if solutions is None and graph is None:
        not_acceptable([*SOLUTIONS, *GRAPHS])
    catalogue = current_app.extensions["eti"]
    granted = []
    who = identity()
    access = None
    if graphs is None:
        access = catalogue.access(who, purpose=purpose())
        graphs, granted = access.graphs, access.agreements
    tag, changed = None, None
    if request.method in ("GET", "HEAD"):  # SPARQL GET answers revalidate (ETag, 304)
        args = request.args
        view = access.fingerprint() if access is not None else sorted(graphs)
        tag = conditional.generation_tag(
            catalogue.store, text, solutions, graph, view, *args.lists()
        )
        changed = conditional.write_time(catalogue.store)
        if hit := conditional.not_modified(tag, changed, {"Vary": "Accept"}):
            return hit
    sparql, shift = with_base(text, request.base_url)
    started = time.perf_counter()
    g.query_shift = shift  # a syntax error's position is the caller's (errors.problem_of)
    result = catalogue.answer(
        sparql,
        graphs=graphs,
        default_graph_uri=request.values.getlist("default-graph-uri"),
        named_graph_uri=request.values.getlist("named-graph-uri"),
        solutions_media=solutions or SOLUTIONS[0],
        graph_media=graph or GRAPHS[0],
        access=access,
        **fair_share(who),
    )
    body = start(result)
    if (result.kind == "graph" and graph is None) or (result.kind != "graph" and solutions is None):
        body.close()
        not_acceptable(GRAPHS if result.kind == "graph" else SOLUTIONS)
    headers = {"Vary": "Accept"}
    headers.update(duty_headers(granted))  # the duties of the content it may combine
    if result.truncated:
        limit = catalogue.settings.max_rows
        headers["ETI-Truncated"] = f"true; limit={limit}"
        headers["Warning"] = f'199 - "results truncated at {limit} rows (max_rows)"'
        metrics.current().truncated()
    registry, form = metrics.current(), info.form or "unknown"
    body.on_timeout = registry.timeout
    response = conditional.stamp(
        Response(body, mimetype=result.media, headers=headers), tag, changed
    )
    response.call_on_close(lambda: registry.query_done(form, time.perf_counter() - started))
    return response


@bp.route("/sparql", methods=["GET", "POST"])
def sparql() -> Response:
    """Answer a SPARQL query over the caller's view; without a query (GET), describe the
    service (SPARQL 1.1 Service Description)."""
    if request.method == "HEAD" and "query" in request.args:
        # The Protocol's query operation is GET or POST; a HEAD would have to answer the
        # status a GET gets (400, 503, truncation), known only once the query has run.
        fail(405, "Method Not Allowed", "a query is run by GET or POST", {"Allow": "GET, POST"})
    if request.method in ("GET", "HEAD") and "query" not in request.args:
        if "update" in request.args:
            fail(400, "Bad Request", "updates are POSTed to /update (SPARQL 1.1 Update)")
        if any(p in request.args for p in QUERY_PARAMETERS):
            fail(400, "Bad Request", "no query given (parameter 'query')")
        return service_description()
    return answer()
