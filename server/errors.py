"""Errors to HTTP, once: every refusal the catalogue raises has one row in ``problem_of``
(status, title, detail, Retry-After, the metric it counts) and is answered by handlers
registered on the app — JSON ``{"error", "detail"}`` for the API, plain text on the
SPARQL routes, a refused write's SHACL report as Turtle or JSON by ``Accept``. The HTML
pages render the same ``Problem`` as a page (``pages`` registers its own handlers for
these types). Views just call the catalogue and let these propagate."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NoReturn

from flask import Flask, Response, abort, g, jsonify, request
from werkzeug.exceptions import HTTPException

from eti.catalogue.core import QueryRefused
from eti.catalogue.executor import Overloaded, QueryFailed, QueryTimeout
from eti.catalogue.fairness import TooManyQueries
from eti.catalogue.oidc import KeysUnavailable
from eti.catalogue.store import StoreError
from eti.catalogue.validating import ValidationBusy, ValidationTooCostly
from eti.catalogue.writes import WriteError

from . import metrics

PLAIN_TEXT_PREFIXES = ("/sparql", "/update")
_POSITION = re.compile(r"error at (\d+):(\d+)")
# the refusals of the catalogue answered here (views raise them; none catches them)
REFUSALS: tuple[type[Exception], ...] = (
    WriteError,
    QueryRefused,
    QueryFailed,
    QueryTimeout,
    Overloaded,
    TooManyQueries,
    ValidationTooCostly,
    ValidationBusy,
)


@dataclass
class Problem:
    """An error answer before its form is chosen: status, title, detail, headers, and
    the SHACL report of a refused write."""

    status: int
    error: str
    detail: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    report: Any = None

    @property
    def retry_after(self) -> str | None:
        return self.headers.get("Retry-After")


def shift_position(message: str, lines: int) -> str:
    """A parser message with its line numbers moved back by ``lines`` (the lines the
    endpoint put before the caller's query)."""
    if not lines:
        return message
    return _POSITION.sub(lambda m: f"error at {int(m[1]) - lines}:{m[2]}", message)


def _busy(error: str, exc: Exception, seconds: str, status: int = 503) -> Problem:
    return Problem(status, error, str(exc), {"Retry-After": seconds})


def problem_of(exc: Exception) -> Problem:
    """The answer to a refusal of the catalogue (the one table of them), counted in the
    metrics. A syntax error's position is shifted by the lines the endpoint added before
    the query (``g.query_shift``)."""
    if isinstance(exc, WriteError):
        return Problem(exc.status, exc.error, exc.detail, report=exc.report)
    if isinstance(exc, QueryRefused):
        metrics.current().reject("service_refused")
        return Problem(400, "Query refused", str(exc))
    if isinstance(exc, QueryFailed):
        if exc.kind == "syntax":
            return Problem(
                400, "Query syntax error", shift_position(str(exc), g.get("query_shift", 0))
            )
        if exc.kind == "query":  # e.g. a function the engine does not have
            return Problem(400, "Query error", str(exc))
        if exc.kind == "refused":  # a graph the store engine cannot keep out of the view
            metrics.current().reject("graph_refused")
            return Problem(400, "Query refused", str(exc))
        return _busy("Store unavailable", exc, "1")
    if isinstance(exc, QueryTimeout):
        metrics.current().timeout()
        return _busy("Query timeout", exc, "5")
    if isinstance(exc, Overloaded):
        metrics.current().reject("overloaded")
        return _busy("Overloaded", exc, "2")
    if isinstance(exc, TooManyQueries):
        metrics.current().reject("per_caller")
        return _busy("Too Many Requests", exc, "2", status=429)
    if isinstance(exc, ValidationTooCostly):
        return Problem(422, "Input too costly", str(exc))
    if isinstance(exc, ValidationBusy):
        return _busy("Overloaded", exc, "2")
    raise TypeError(f"not a refusal of the catalogue: {exc!r}")


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


def api_response(problem: Problem) -> Response:
    """A problem answered to an API client. A report (a write that broke a rule) comes
    as Turtle when asked for; on the SPARQL routes as JSON when asked for, else as text
    after the reason; elsewhere inside the JSON error."""
    report = problem.report
    if report is None:
        return error_response(problem.status, problem.error, problem.detail, problem.headers)
    accept = request.accept_mimetypes
    plain = request.path.startswith(PLAIN_TEXT_PREFIXES)
    if plain:
        offered = ["text/plain", "application/json", "text/turtle"]
        best = accept.best_match(offered) if accept else None
    else:
        best = accept.best
    if best == "text/turtle":
        return Response(report.turtle(), status=problem.status, mimetype="text/turtle")
    if plain and best != "application/json":
        text = f"{problem.error}: {problem.detail}\n\n{report.text('en')}"
        return Response(text, status=problem.status, mimetype="text/plain")
    if plain:
        response = jsonify(
            {"error": problem.error, "detail": problem.detail, "report": report.to_json()}
        )
    else:
        detail = {"message": problem.detail, "report": report.to_json()}
        response = jsonify({"error": problem.error, "detail": detail})
    response.status_code = problem.status
    return response


def fail(
    status: int, error: str, detail: Any = None, headers: dict[str, str] | None = None
) -> NoReturn:
    """Stop the request with an error answer."""
    abort(error_response(status, error, detail, headers))


def register(app: Flask) -> None:
    """Answer every HTTP error and every refusal of the catalogue in the project's form,
    and never leak a traceback."""

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        if exc.response is not None:
            return exc.response
        return error_response(exc.code or 500, exc.name, exc.description)

    def _refusal(exc: Exception) -> Response:
        return api_response(problem_of(exc))

    for kind in REFUSALS:
        app.register_error_handler(kind, _refusal)

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
