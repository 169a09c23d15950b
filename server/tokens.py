"""``/api/tokens``: an admin makes, lists and revokes bearer tokens while the server runs
(the data folder is the server's then, so ``eti token`` reaches it here, ``--server``)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, url_for

from eti.catalogue.auth import TokenTable

from .agreements import _json_body
from .auth import require
from .errors import fail

bp = Blueprint("tokens", __name__, url_prefix="/api/tokens")
FIELDS = ("role", "org", "channel", "name", "days")


def _table() -> TokenTable:
    return TokenTable(current_app.extensions["eti"].store)


@bp.post("")
@require("admin")
def create() -> Response:
    """A new token ``{role, org?, channel?, name?, days?}``: 201 with the secret, shown
    this once (the catalogue keeps its hash only)."""
    body = _json_body()
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        fail(400, "Bad Request", f"unknown fields {', '.join(unknown)}; known: {FIELDS}")
    if not isinstance(body.get("role"), str):
        fail(400, "Bad Request", "role is required: admin, steward or channel")
    for name in ("org", "channel", "name"):
        if body.get(name) is not None and not isinstance(body[name], str):
            fail(400, "Bad Request", f"{name} must be a string")
    days = body.get("days")
    if days is not None and (not isinstance(days, int) or isinstance(days, bool) or days < 1):
        fail(400, "Bad Request", "days must be a whole number of days, at least 1")
    try:
        ident, token = _table().create(
            body["role"],
            org=body.get("org"),
            channel=body.get("channel"),
            name=body.get("name"),
            days=days,
        )
    except ValueError as exc:  # the table's words name CLI options: --org → org
        fail(400, "Bad Request", str(exc).replace("--", ""))
    row = next(r for r in _table().list() if r["id"] == ident)
    response = jsonify({**row, "token": token})
    response.status_code = 201
    response.headers["Location"] = url_for("tokens.create") + "/" + ident
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("")
@require("admin")
def listing() -> Response:
    """Every token: id, role, scope, name, created, expiry and revocation (never a secret)."""
    return jsonify({"tokens": _table().list()})


@bp.delete("/<ident>")
@require("admin")
def revoke(ident: str) -> Response:
    """Revoke a live token: 204; 404 when there is no live token with this id."""
    if not _table().revoke(ident):
        fail(404, "Not Found", f"no live token with id {ident!r}")
    return Response(status=204)
