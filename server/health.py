"""Liveness and readiness."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from eti.catalogue import __version__
from eti.catalogue.store import StoreError

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    """200 when the store answers, 503 when it does not."""
    store = current_app.extensions["eti"].store
    try:
        store.query("ASK { }")
    except StoreError as exc:
        response = jsonify({"status": "unavailable", "store": store.kind, "detail": str(exc)})
        response.status_code = 503
        response.headers["Retry-After"] = "5"
        return response
    return jsonify({"status": "ok", "store": store.kind, "version": __version__})
