"""``POST /api/validate``: validate a body, an uploaded file or a URL against the rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from eti.catalogue.auth import Identity
from eti.catalogue.checking import (
    InputError,
    graph_of,
    graph_of_url,
    parse_as_of,
    parse_profiles,
)

from . import current
from .auth import identity
from .errors import fail
from .rdfbody import rdf_body
from .sparql import fair_share

if TYPE_CHECKING:
    from eti.catalogue.validation import Report

bp = Blueprint("validate", __name__)
ANSWERS = ["application/json", "text/turtle", "text/html", "text/plain", "application/xml"]
CONTEXTS = ("none", "catalogue")
TITLES = {400: "Bad Request", 413: "Content Too Large", 415: "Unsupported Media Type"}


def input_limit(who: Identity) -> int:
    """The most bytes ``who`` may have validated (a request, or a fetched URL's body):
    ``max_body``, and ``max_validate_body_anonymous`` for anonymous callers, whose input
    costs the server as much as anyone's. A larger request is 413 naming the setting."""
    settings = current.settings()
    if not who.anonymous:
        return settings.max_body
    limit = min(settings.max_body, settings.max_validate_body_anonymous)
    size = request.content_length
    if size is None and request.method == "POST":  # chunked: read (within max_body)
        size = len(request.get_data(cache=True))
    if size is not None and size > limit:
        fail(
            413,
            "Content Too Large",
            f"the request is {size} bytes; anonymous callers may validate up to {limit} "
            "bytes (max_validate_body_anonymous); send a token for larger input",
        )
    return limit


def run_bounded(
    who: Identity,
    graph: Any,
    profiles: list[str] | None,
    as_of: Any,
    *,
    context: Any = None,
    standalone: bool = False,
) -> Any:
    """The report of ``graph``, from the validation worker (bounded in time and memory,
    outside this process's validation lock): 422 when the input was too costly, 503 +
    Retry-After when the worker stays busy, 429 when ``who`` validates as much at once as
    one caller may (``per_caller_queries``: waiting callers hold request threads)."""
    catalogue = current_app.extensions["eti"]
    try:
        release = catalogue.validations.enter(fair_share(who)["caller"])
        try:
            return catalogue.validator.validate(
                graph, profiles, as_of=as_of, context=context, standalone=standalone
            )
        finally:
            release()
    except ValueError as exc:
        fail(400, "Bad Request", str(exc))
    raise AssertionError("unreachable")


def _input(limit: int):  # type: ignore[no-untyped-def]
    settings = current.settings()
    url = request.values.get("url")
    fmt = request.values.get("format") or None
    if url:
        return graph_of_url(
            url, allow_private=settings.allow_private_urls, max_bytes=limit, fmt=fmt
        )
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        upload = request.files.get("file")
        if upload is not None and upload.filename:
            return graph_of(
                upload.read(),
                media_type=upload.mimetype or None,
                filename=upload.filename,
                fmt=fmt,
                source=upload.filename,
            )
        text = request.form.get("data", "")
        return graph_of(text.encode(), fmt=fmt or "turtle", source="data")
    # any media type: the syntax may be named by format=, else graph_of tells (or 415s)
    data = rdf_body(named=True)
    return graph_of(data, media_type=request.mimetype, fmt=fmt, source="body")


@bp.post("/api/validate")
def validate_view() -> Response:
    """The report as JSON, Turtle (sh:ValidationReport), HTML, text or JUnit XML, by
    ``Accept``; ``ETI-Conforms: true|false`` on each. ``context=catalogue`` checks the
    input with the catalogue's agents and registered products, as registration does;
    without it, what needs them is reported as not checked. Validated in the bounded
    validation worker (time and memory), never in a request thread."""
    from eti.catalogue.incontext import catalogue_context

    media = request.accept_mimetypes.best_match(ANSWERS, default="application/json")
    limit = input_limit(identity())
    context = request.args.get("context", "none")
    if context not in CONTEXTS:
        fail(400, "Bad Request", f"context must be one of {', '.join(CONTEXTS)}, not {context!r}")
    try:
        profiles = parse_profiles(request.args.getlist("profile") + request.form.getlist("profile"))
        as_of = parse_as_of(request.values.get("as_of"))
        graph = _input(limit)
    except InputError as exc:
        fail(exc.status, TITLES.get(exc.status, "Bad Request"), exc.where or str(exc))
    if context == "catalogue":
        known = catalogue_context(current_app.extensions["eti"].store, graph)
        report = run_bounded(identity(), graph, profiles, as_of, context=known)
    else:
        report = run_bounded(identity(), graph, profiles, as_of, standalone=True)
    response = _answer(report, media)
    response.headers["ETI-Conforms"] = str(report.conforms).lower()
    return response


def _answer(report: Report, media: str) -> Response:
    lang = request.accept_languages.best_match(["nb", "nn", "en"]) or "nb"
    if media == "text/turtle":
        return Response(report.turtle(), mimetype="text/turtle")
    if media == "text/plain":
        return Response(report.text("en" if lang == "en" else "nb"), mimetype="text/plain")
    if media == "application/xml":
        return Response(report.to_junit(), mimetype="application/xml")
    if media == "text/html":
        return Response(
            render_template(
                "report.html",
                report=report,
                lang=lang,
                text=report.text("en" if lang == "en" else "nb"),
            ),
            mimetype="text/html",
        )
    return jsonify(report.to_json())
