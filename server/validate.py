"""``POST /api/validate``: validate a body, an uploaded file or a URL against the rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from eti.catalogue.checking import (
    InputError,
    graph_of,
    graph_of_url,
    parse_as_of,
    parse_profiles,
)

from .errors import fail

if TYPE_CHECKING:
    from eti.catalogue.validation import Report

bp = Blueprint("validate", __name__)
ANSWERS = ["application/json", "text/turtle", "text/html", "text/plain", "application/xml"]
CONTEXTS = ("none", "catalogue")


def _input():  # type: ignore[no-untyped-def]
    settings = current_app.config["SETTINGS"]
    url = request.values.get("url")
    fmt = request.values.get("format") or None
    if url:
        return graph_of_url(
            url, allow_private=settings.allow_private_urls, max_bytes=settings.max_body, fmt=fmt
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
    if not request.content_type:
        raise InputError(
            "give the body's RDF syntax in Content-Type (e.g. text/turtle), or "
            "send a form with 'file', 'data' or 'url'",
            status=415,
        )
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise InputError(f"RDF bodies are UTF-8, not {charset}", status=415)
    return graph_of(request.get_data(), media_type=request.mimetype, fmt=fmt, source="body")


@bp.post("/api/validate")
def validate_view() -> Response:
    """The report as JSON, Turtle (sh:ValidationReport), HTML, text or JUnit XML, by
    ``Accept``; ``ETI-Conforms: true|false`` on each. ``context=catalogue`` checks the
    input with the catalogue's agents and registered products, as registration does;
    without it, what needs them is reported as not checked."""
    from eti.catalogue.incontext import validate_in_catalogue
    from eti.catalogue.validation import validate

    media = request.accept_mimetypes.best_match(ANSWERS, default="application/json")
    context = request.args.get("context", "none")
    if context not in CONTEXTS:
        fail(400, "Bad Request", f"context must be one of {', '.join(CONTEXTS)}, not {context!r}")
    try:
        profiles = parse_profiles(request.args.getlist("profile") + request.form.getlist("profile"))
        as_of = parse_as_of(request.values.get("as_of"))
        graph = _input()
    except InputError as exc:
        fail(
            exc.status,
            "Bad Request" if exc.status == 400 else "Unsupported Media Type",
            exc.where or str(exc),
        )
    if context == "catalogue":
        report = validate_in_catalogue(
            current_app.extensions["eti"].store, graph, profiles, as_of=as_of
        )
    else:
        report = validate(graph, profiles, as_of=as_of, standalone=True)
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
