"""The validator page (``/validate``): paste, upload or give a URL; see the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Response, request

from eti.catalogue.checking import InputError, graph_of, graph_of_url, parse_as_of, parse_profiles

from . import current
from .i18n import language, t
from .pages import (
    bp,
    render,
    who,
)

REPORT_DOWNLOADS = {
    "json": ("application/json", "json"),
    "turtle": ("text/turtle", "ttl"),
    "text": ("text/plain", "txt"),
    "junit": ("application/xml", "xml"),
}
VALIDATE_FORMATS = ["turtle", "trig", "ntriples", "nquads", "rdfxml", "jsonld"]


def _validation_input(form: dict[str, Any], limit: int) -> Any:
    settings = current.settings()
    fmt = form["format"] or None
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        data = upload.read()
        name = Path(upload.filename).name
        known = any(name.lower().endswith(ext) for ext in _extensions())
        graph = graph_of(
            data,
            media_type=None if known or fmt else upload.mimetype,
            filename=name,
            fmt=fmt,
            source=name,
        )
        try:
            form["text"] = data.decode("utf-8")
            form["filename"] = name
        except UnicodeDecodeError:
            form["text"] = ""
        return graph
    if form["url"]:
        return graph_of_url(
            form["url"],
            allow_private=settings.allow_private_urls,
            max_bytes=limit,
            fmt=fmt,
        )
    if form["text"].strip():
        name = form["filename"] or None
        return graph_of(
            form["text"].encode("utf-8"),
            filename=name,
            fmt=fmt or (None if name else "turtle"),
            source=name or "text",
        )
    raise InputError(t("validate.nothing"))


def _extensions() -> list[str]:
    from eti.catalogue import rdfio

    return list(rdfio.EXTENSIONS)


def _report_model(report: Any) -> dict[str, Any]:
    lang = language()
    groups = []
    for resource, props in report.grouped():
        rows = []
        for prop, results in props:
            for r in results:
                rows.append(
                    {
                        "severity": r.severity,
                        "property": prop,
                        "message": r.message(lang),
                        "value": str(r.value) if r.value is not None else "",
                        "rule": f"{r.profile}: {str(r.shape).rsplit('#', 1)[-1]}"
                        if r.shape is not None
                        else (r.profile or ""),
                    }
                )
        worst = rows[0]["severity"] if rows else "Info"
        groups.append(
            {
                "resource": str(resource),
                "label": report.labels.get(resource, ""),
                "worst": worst,
                "rows": rows,
            }
        )
    counts = report.counts
    return {
        "conforms": report.conforms,
        "counts": counts,
        "summary": t(
            "validate.counts",
            errors=counts["Violation"],
            warnings=counts["Warning"],
            notes=counts["Info"],
        ),
        "judged": t(
            "validate.judged", profiles=", ".join(report.profiles), day=report.as_of.isoformat()
        ),
        "groups": groups,
        "quality": [{"iri": iri, **q} for iri, q in sorted(report.quality.items())],
    }


@bp.route("/validate", methods=["GET", "POST"])
def validate() -> Response:
    """Paste, upload or give a URL; pick profiles and an 'as of' date; see the report
    grouped by resource and severity, and download it."""
    from eti.catalogue.validation import PROFILES

    from .validate import input_limit, run_bounded

    form: dict[str, Any] = {
        "text": request.form.get("text", ""),
        "url": request.form.get("url", "").strip(),
        "format": request.form.get("format", ""),
        "profiles": request.form.getlist("profile"),
        "as_of": request.form.get("as_of", "").strip(),
        "filename": request.form.get("filename", "").strip(),
    }
    if form["format"] not in ("", *VALIDATE_FORMATS):
        form["format"] = ""
    report = error = None
    status = 200
    if request.method == "POST":
        try:
            profiles = parse_profiles(form["profiles"])
            as_of = parse_as_of(form["as_of"] or None)
            graph = _validation_input(form, input_limit(who()))
            report = run_bounded(who(), graph, profiles, as_of, standalone=True)
        except InputError as exc:
            error, status = str(exc), 400
        wanted = request.form.get("download")
        if report is not None and wanted in REPORT_DOWNLOADS:
            media, ext = REPORT_DOWNLOADS[wanted]
            body = {
                "json": lambda: json.dumps(report.to_json(), ensure_ascii=False, indent=2),
                "turtle": report.turtle,
                "text": lambda: report.text(language()),
                "junit": report.to_junit,
            }[wanted]()
            return Response(
                body,
                mimetype=media,
                headers={"Content-Disposition": f'attachment; filename="eti-report.{ext}"'},
            )
    return render(
        "validate.html",
        status=status,
        form=form,
        profiles=list(PROFILES),
        formats=VALIDATE_FORMATS,
        report=_report_model(report) if report is not None else None,
        error=error,
        downloads=list(REPORT_DOWNLOADS),
    )
