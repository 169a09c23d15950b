"""``/api/harvests``: the reports of harvest runs."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from eti.catalogue import harvest

bp = Blueprint("harvests", __name__, url_prefix="/api/harvests")


@bp.get("")
def reports() -> Response:
    """The latest harvest reports (start, end, counts, every refusal with its reason)."""
    limit = min(max(request.args.get("limit", 50, type=int) or 50, 1), 500)
    store = current_app.extensions["eti"].store
    return jsonify(
        {
            "sources": [vars(s) for s in harvest.sources(store)],
            "reports": harvest.reports(store, limit),
        }
    )
