"""SPARQL 1.1 Update at ``/update`` (admins only): POST form-encoded or direct
(``application/sparql-update``, UTF-8), with ``using-graph-uri`` /
``using-named-graph-uri``. The update runs on a scratch copy of the graphs it names;
the graphs it changed are validated and committed in one transaction, or nothing is
written (``eti.catalogue.writes.update``)."""

from __future__ import annotations

import functools

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, g, request

from eti.catalogue import registry, writes

from .auth import identity, require
from .errors import fail
from .gsp import warning_headers
from .sparql import posted_text, query_hash

bp = Blueprint("update", __name__)


def update_text() -> str:
    """The update of a form POST or a direct POST (SPARQL 1.1 Protocol §2.2)."""
    text = posted_text(
        "update",
        "application/sparql-update",
        "an",
        ("query", "queries go to /sparql (SPARQL 1.1 Query)"),
    )
    if not text or not text.strip():
        fail(400, "Bad Request", "no update given (parameter 'update')")
    return text


def graph_parameters(name: str) -> list[str]:
    """The IRIs of a repeatable graph parameter; 400 for one that is not an absolute IRI."""
    out = []
    for value in request.values.getlist(name):
        try:
            ox.NamedNode(value)
        except ValueError:
            fail(400, "Bad Request", f"{name}: {value!r} is not an absolute IRI")
        out.append(value)
    return out


@bp.route("/update", methods=["POST"])
@require("admin")
def update() -> Response:
    """Run a SPARQL Update: 204 when applied (with ``ETI-Warnings`` when validation
    warned); 400/403/404/409 with the reason, 422 with the SHACL report when a shared
    rule would break (nothing is written then)."""
    text = update_text()
    using = graph_parameters("using-graph-uri")
    using_named = graph_parameters("using-named-graph-uri")
    g.log_extra = {**g.get("log_extra", {}), "query_hash": query_hash(text), "form": "UPDATE"}
    store = current_app.extensions["eti"].store
    # a refusal (a broken rule: 422 with the SHACL report) is answered by ``errors``
    outcome = writes.update(
        store,
        text,
        using=using,
        using_named=using_named,
        base_iri=request.base_url,
        provenance=functools.partial(registry.raw_write_provenance, who=identity()),
    )
    response = Response(status=204, headers=warning_headers(outcome.reports))
    response.headers["ETI-Graphs-Changed"] = str(len(outcome.graphs))
    return response
