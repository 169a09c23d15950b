"""Precise error answers: JSON ``{"error", "detail"}``; plain text on SPARQL routes."""

from __future__ import annotations

from typing import Any, NoReturn

from flask import Flask, Response, abort, jsonify, request
from werkzeug.exceptions import HTTPException

from eti.catalogue.oidc import KeysUnavailable
from eti.catalogue.store import StoreError

PLAIN_TEXT_PREFIXES = ("/sparql", "/update")


def error_response(
    status: int, error: str, detail: Any = None, headers: dict[str, str] | None = None
) -> Response:
    """An error answer in the form the route's clients expect."""
    if request.path.startswith(PLAIN_TEXT_PREFIXES):
        text = error if detail is None else f"{error}: {detail}"
        response = Response(text + "\n", status=status, mimetype="text/plain")
    else:
        response = jsonify({"error": error, "detail": detail})
        response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def fail(
    status: int, error: str, detail: Any = None, headers: dict[str, str] | None = None
) -> NoReturn:
    """Stop the request with an error answer."""
    abort(error_response(status, error, detail, headers))


def register(app: Flask) -> None:
    """Answer every HTTP error in the project's form, and never leak a traceback."""

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        if exc.response is not None:
            return exc.response
        return error_response(exc.code or 500, exc.name, exc.description)

    @app.errorhandler(StoreError)
    def _store(exc: StoreError) -> Response:
        # the store (remote, or a data folder gone bad), not the caller: retry later; on
        # every route, so views need no handler of their own
        app.logger.warning("store unavailable: %s", exc)
        return error_response(503, "Store unavailable", str(exc), {"Retry-After": "1"})

    @app.errorhandler(KeysUnavailable)
    def _keys(exc: KeysUnavailable) -> Response:
        # the token issuer's keys cannot be fetched: not the caller's fault, retry later
        app.logger.warning("token issuer unavailable: %s", exc)
        return error_response(503, "Service Unavailable", str(exc), {"Retry-After": "10"})

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        app.logger.exception("unexpected error")
        return error_response(
            500, "Internal Server Error", "the server failed; the error was logged"
        )
