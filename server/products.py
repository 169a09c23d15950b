"""``/api/products``: stewards register, update and withdraw; anyone reads."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from eti.catalogue import registry

from . import conditional
from .agreements import duty_headers
from .auth import identity, purpose, require
from .errors import fail
from .negotiation import GRAPHS, negotiate
from .rdfbody import rdf_response, read_body

bp = Blueprint("products", __name__, url_prefix="/api/products")


def _catalogue():  # type: ignore[no-untyped-def]
    return current_app.extensions["eti"]


def _summary(reg: registry.Registration) -> dict:
    warnings = [r for report in reg.reports for r in report.to_json()["results"]]
    return {
        "id": reg.ident,
        "iri": reg.iri,
        "version": reg.version,
        "location": url_for("products.read", ident=reg.ident),
        "history": url_for("products.history", ident=reg.ident),
        "warnings": warnings,
    }


def _int_arg(name: str, default: int) -> int:
    value = request.args.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        fail(400, "Bad Request", f"{name} must be a whole number, not {value!r}")
    return default


@bp.get("")
def listing() -> Response:
    """Search the catalogue: ``q`` (free text), facets ``theme``, ``publisher``, ``event``,
    ``municipality``, ``status`` (repeatable), ``page``, ``per_page``, ``lang``."""
    from eti.catalogue.search import FACETS

    page, per_page = _int_arg("page", 1), _int_arg("per_page", 20)
    if page < 1 or not 1 <= per_page <= 100:
        fail(400, "Bad Request", "page must be ≥ 1 and per_page between 1 and 100")
    lang = request.args.get("lang") or (
        request.accept_languages.best_match(["nb", "nn", "en"]) or "nb"
    )
    filters = {name: request.args.getlist(name) for name in FACETS if request.args.getlist(name)}
    result = _catalogue().searcher.search(
        request.args.get("q", ""), filters=filters, page=page, per_page=per_page, lang=lang
    )
    for item in result["results"]:
        item["href"] = url_for("products.read", ident=item["id"])
    return jsonify(result)


@bp.post("")
@require("steward", "admin")
def create() -> Response:
    """Register a new product (201 + Location)."""
    quads = read_body()
    reg = registry.register(_catalogue().store, quads, who=identity(), create=True)
    response = jsonify(_summary(reg))
    response.status_code = 201
    response.headers["Location"] = url_for("products.read", ident=reg.ident)
    return response


@bp.put("/<ident:ident>")
@require("steward", "admin")
def update(ident: str) -> Response:
    """Replace a registered product with a new version."""
    quads = read_body()
    reg = registry.register(_catalogue().store, quads, who=identity(), ident=ident, create=False)
    return jsonify(_summary(reg))


@bp.delete("/<ident:ident>")
@require("steward", "admin")
def withdraw(ident: str) -> Response:
    """Withdraw a product: it leaves discovery, its history stays."""
    record = registry.withdraw(_catalogue().store, ident, who=identity())
    return jsonify(
        {
            "id": ident,
            "status": "withdrawn",
            "version": record.version,
            "history": url_for("products.history", ident=ident),
        }
    )


@bp.get("/<ident:ident>")
def read(ident: str) -> Response:
    """A product: JSON summary or its description in RDF, by ``Accept``; its content too
    when the caller may read it for the request's purpose (``purpose`` / ``ETI-Purpose``),
    with the duties of the agreement that opens it."""
    cat = _catalogue()
    record = registry.get_record(cat.store, ident)
    if record is None:
        fail(404, "Not Found", f"no product {ident}")
    if record.withdrawn:
        fail(
            410,
            "Gone",
            {
                "message": f"product {ident} was withdrawn",
                "history": url_for("products.history", ident=ident),
            },
        )
    media = negotiate(["application/json", *GRAPHS]) or "application/json"
    triples, duties = description(ident, record)
    headers = {"Vary": "Accept", **duties}
    changed = conditional.changed_at(cat.store, record.modified)
    if media in GRAPHS:
        return conditional.by_content(rdf_response(triples, media, headers=headers), changed)
    response = jsonify(
        {
            "id": ident,
            "iri": record.iri,
            "version": record.version,
            "issued": record.issued,
            "modified": record.modified,
            "publisher": record.publisher,
            "orgnr": record.orgnr,
            "history": url_for("products.history", ident=ident),
            "triples": len(triples),
        }
    )
    response.headers.update(headers)
    return conditional.by_content(response, changed)


def description(ident: str, record: registry.Record) -> tuple[list, dict[str, str]]:
    """The product's description as the caller may read it for the request's purpose
    (``purpose`` / ``ETI-Purpose``; its content too when an agreement opens it), and the
    ``ETI-Duties``/``Link`` headers of the agreements that open it: the RDF of
    ``/api/products/<id>`` and of the page ``/products/<id>``."""
    cat, who = _catalogue(), identity()
    access = cat.access(who, purpose=purpose())
    triples = cat.product_triples(ident, who, access=access)
    opening = [a for a in access.agreements if a.target == record.iri]
    return triples, duty_headers(opening)


@bp.get("/<ident:ident>/history")
def history(ident: str) -> Response:
    """Every version with who, when, and the triples it added and removed (content
    triples only for those who may read the product's content)."""
    cat = _catalogue()
    record = registry.get_record(cat.store, ident)
    if record is None:
        fail(404, "Not Found", f"no product {ident}")
    readable = cat.reads_content(identity(), record, purpose=purpose())
    versions = registry.history(cat.store, ident, with_content=readable)
    return jsonify(
        {
            "id": ident,
            "versions": [
                {**v.to_json(), "href": url_for("products.version", ident=ident, number=v.version)}
                for v in versions
            ],
        }
    )


@bp.get("/<ident:ident>/versions/<int:number>")
@require("steward", "admin")
def version(ident: str, number: int) -> Response:
    """An earlier version (description and content), for the owner's stewards."""
    cat = _catalogue()
    record = registry.get_record(cat.store, ident)
    if record is None or not 1 <= number <= record.version:
        fail(404, "Not Found", f"no version {number} of product {ident}")
    who = identity()
    if who.role == "steward" and record.orgnr != who.org:
        fail(403, "Forbidden", f"product {ident} belongs to organisation {record.orgnr}")
    media = negotiate(GRAPHS) or "text/turtle"
    return rdf_response(registry.version_triples(cat.store, ident, number), media)
