"""``/api/situation``: what applies to a family's situation, from what the caller may read."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from eti.catalogue import agreements, clock
from eti.catalogue.situation import compile_situation

from .agreements import duty_headers, duty_list
from .auth import identity, purpose
from .errors import fail

bp = Blueprint("situation", __name__)


@bp.get("/api/situation")
def situation() -> Response:
    """``municipality`` (four digits), ``age``, ``need`` (repeatable: a Los IRI or slug, or
    words), ``purpose``: the services that apply, grouped by need, with sources; the
    duties of the agreements whose content the answer draws on, per source and in the
    ``ETI-Duties`` and ``Link`` headers."""
    age = request.args.get("age")
    if age is not None and not age.isdigit():
        fail(400, "Bad Request", "age must be a whole number of years")
    result = compile_situation(
        current_app.extensions["eti"],
        identity(),
        municipality=request.args.get("municipality", ""),
        age=int(age) if age is not None else None,
        needs=request.args.getlist("need"),
        purpose=purpose(),
        today=clock.today(),
    )
    headers = duty_headers(with_duties(result))
    response = jsonify(result)
    response.headers.update(headers)
    return response


def with_duties(result: dict[str, Any]) -> list[agreements.Agreement]:
    """Give every source entry the agreement opening its product and that agreement's
    duties (None and [] for content read without one); return the agreements used."""
    opened = {a["agreement"] for a in result["agreements"]}
    store = current_app.extensions["eti"].store
    by_product = {a.target: a for a in agreements.for_caller(store, identity()) if a.iri in opened}
    used: list[agreements.Agreement] = []
    duties: dict[str, list] = {}
    for group in result["groups"]:
        for service in group["services"]:
            source = service.get("source")
            if source is None:
                continue
            agreement = by_product.get(source["product"])
            source["agreement"] = agreement.iri if agreement else None
            source["duties"] = []
            if agreement:
                if agreement.iri not in duties:
                    duties[agreement.iri] = duty_list(agreement)
                    used.append(agreement)
                source["duties"] = duties[agreement.iri]
    return used
