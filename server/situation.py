"""``/api/situation``: what applies to a family's situation, from what the caller may read."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, jsonify, request

from eti.catalogue.situation import compile_situation
from eti.catalogue.writes import WriteError

from .auth import identity, purpose
from .errors import fail
from .rdfbody import write_error

bp = Blueprint("situation", __name__)


@bp.get("/api/situation")
def situation() -> Response:
    """``municipality`` (four digits), ``age``, ``need`` (repeatable: a Los IRI or slug, or
    words), ``purpose``: the services that apply, grouped by need, with sources."""
    age = request.args.get("age")
    if age is not None and not age.isdigit():
        fail(400, "Bad Request", "age must be a whole number of years")
    try:
        result = compile_situation(
            current_app.extensions["eti"],
            identity(),
            municipality=request.args.get("municipality", ""),
            age=int(age) if age is not None else None,
            needs=request.args.getlist("need"),
            purpose=purpose(),
            today=datetime.now(UTC).date(),
        )
    except WriteError as exc:
        return write_error(exc)
    return jsonify(result)
