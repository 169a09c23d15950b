"""The steward pages: register a product by form, keep it current, see the organisation's
products (``/products/new``, ``/products/<id>/edit``, ``/products/<id>/changes``,
``/my/products``).

Thin views over ``eti.catalogue``: the form becomes RDF in ``productform`` and is written
with ``registry.register`` / ``registry.withdraw``, as the API writes it; "check" runs the
shapes a registration runs (``writes.validate_changes``) and writes nothing. Same session,
CSRF token and page headers as the other pages (``pages``); every page works without
JavaScript (``steward.js`` only filters the theme list).
"""

from __future__ import annotations

import re
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, flash, jsonify, redirect, request, url_for

from eti.catalogue import agreements, clock, productform, productform_store, rdfio, registry
from eti.catalogue.auth import Identity
from eti.catalogue.namespaces import content_graph, is_valid_id, product_graph
from eti.catalogue.productform import FormProblem, Names
from eti.catalogue.writes import RuleBroken, WriteError, validate_changes

from . import i18n, pages
from .agreements_page import agreement_row
from .i18n import language, t
from .stewarddiff import readable_versions, statement_rows

bp = Blueprint("steward", __name__)
bp.before_request(pages._check_csrf)  # the pages' session CSRF token on every POST
bp.after_request(pages._headers)  # Content-Language, Vary, no-store when signed in

KEPT = "content_kept"  # hidden field: the content read from an earlier upload (N-Triples)


class Stop(Exception):
    """A response to give instead of the page (sign-in redirect, 403, 404)."""

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


@bp.errorhandler(Stop)
def _stop(exc: Stop) -> Response:
    return exc.response


def _store():  # type: ignore[no-untyped-def]
    return pages.catalogue().store


def _base() -> str:
    return pages.catalogue().settings.base_iri


def steward() -> Identity:
    """The signed-in steward: anonymous callers are sent to sign in, other roles get 403."""
    caller = pages.who()
    if caller.anonymous:
        flash(t("steward.signin_first"), "error")
        raise Stop(redirect(url_for("pages.signin"), 303))
    if caller.role != "steward" or not caller.org:
        raise Stop(pages.page_error(403, "error.forbidden", t("steward.only_stewards")))
    return caller


def owned_record(ident: str, caller: Identity) -> registry.Record:
    """The product ``ident`` when the caller's organisation owns it: 404 when there is none
    (or it was withdrawn), 403 for another organisation's product."""
    record = registry.get_record(_store(), ident) if is_valid_id(ident) else None
    if record is None or record.withdrawn:
        raise Stop(pages.page_error(404, "error.404", t("error.404.text", ident=ident)))
    if registry.owner_of(_store(), record) != caller.org:
        raise Stop(pages.page_error(403, "error.forbidden", t("steward.not_yours", ident=ident)))
    return record


# --- the form -------------------------------------------------------------------------------


def _options(items: list[dict[str, Any]]) -> list[dict[str, str]]:
    out = [{"iri": c["iri"], "label": i18n.pick(c["labels"])} for c in items]
    return sorted(out, key=lambda c: c["label"].lower())


def _choices() -> dict[str, Any]:
    found = productform_store.choices(_store())
    themes = _options(found["themes"])
    groups = [
        ("eu", [c for c in themes if "/data-theme/" in c["iri"]]),
        ("los_tema", [c for c in themes if "/los/tema/" in c["iri"]]),
        ("los_ord", [c for c in themes if "/los/ord/" in c["iri"]]),
    ]
    return {
        **{name: _options(items) for name, items in found.items()},
        "theme_groups": groups,
    }


def _content() -> tuple[list[ox.Triple] | None, str]:
    """The content of the submission: a new upload, else what an earlier upload left in
    the form, else None (keep the stored content). Raises RdfInputError for a file that
    is not readable RDF."""
    upload = request.files.get("content")
    if upload is not None and upload.filename:
        triples = productform.read_content(upload.read(), upload.filename)
        return triples, upload.filename
    kept = request.form.get(KEPT, "")
    if kept.strip():
        quads = rdfio.parse_quads(
            kept.encode("utf-8"), ox.RdfFormat.N_TRIPLES, source="content", fresh_blank_nodes=True
        )
        name = request.form.get("content_name", "").strip()[:200]
        return [ox.Triple(q.subject, q.predicate, q.object) for q in quads], name
    return None, ""


def _results_by_field(reports: list, names: Names, form: dict[str, Any]) -> dict[str, list]:
    """Validation results per form field ("" for the product as a whole), in the page's
    language, each message once per field."""
    out: dict[str, list[dict[str, str]]] = {}
    for report in reports:
        for r in report.results:
            path = str(r.path) if isinstance(r.path, str) else None
            field = productform.field_of(str(r.resource), path, names, form)
            row = {"severity": r.severity, "message": r.message(language())}
            if row not in out.setdefault(field, []):
                out[field].append(row)
    return out


def _summary(by_field: dict[str, list]) -> list[dict[str, str]]:
    """The error summary: each error (not warnings or notes) with a link to its field."""
    return [
        {"field": field or "general", "message": row["message"]}
        for field, rows in by_field.items()
        for row in rows
        if row["severity"] == "Violation"
    ]


def _problem_rows(problems: list[FormProblem]) -> dict[str, list]:
    out: dict[str, list[dict[str, str]]] = {}
    for p in problems:
        out.setdefault(p.field, []).append({"severity": "Violation", "message": t(p.code)})
    return out


def _work(caller: Identity, record: registry.Record | None) -> Response:
    """Handle a POST of the form (new or edit): check, register or save."""
    action = request.form.get("action", "check")
    form = productform.from_fields(request.form)
    if record is not None:
        form["id"] = record.ident
    content, content_name = None, ""
    try:
        content, content_name = _content()
    except rdfio.RdfInputError as exc:
        rows = {"content": [{"severity": "Violation", "message": str(exc)}]}
        return _page(form, record, rows, status=400, content_name="")
    problems = productform.problems(form)
    if problems:
        return _page(form, record, _problem_rows(problems), 400, content, content_name)
    ident = form["id"]
    carried = content  # what the page carries on: an upload, never the stored content
    if content is None and record is not None:
        content = _store().triples(content_graph(ident))
    content = content or []
    description = productform.build(
        form,
        base=_base(),
        orgnr=caller.org or "",
        today=clock.today(),
        items=productform.services(content),
    )
    names = Names.of(_base(), ident)
    if action == "check":
        try:
            reports = validate_changes(
                _store(),
                {product_graph(ident): description, content_graph(ident): content or None},
            )
        except WriteError as exc:
            rows = {"": [{"severity": "Violation", "message": exc.detail, "lang": "en"}]}
            return _page(form, record, rows, exc.status, carried, content_name)
        by_field = _results_by_field(reports, names, form)
        checked = all(r.conforms for r in reports)
        return _page(form, record, by_field, 200, carried, content_name, checked=checked)
    if action not in ("register", "save"):
        rows = {"": [{"severity": "Violation", "message": t("error.bad_request")}]}
        return _page(form, record, rows, 400, carried, content_name)
    quads = productform.submission(description, content, ident)
    try:
        done = registry.register(_store(), quads, who=caller, ident=ident, create=record is None)
    except RuleBroken as exc:
        by_field = _results_by_field([exc.report], names, form) if exc.report else {}
        return _page(form, record, by_field, 422, carried, content_name)
    except WriteError as exc:
        rows = {"": [{"severity": "Violation", "message": exc.detail, "lang": "en"}]}
        return _page(form, record, rows, exc.status, carried, content_name)
    key = "steward.registered" if record is None else "steward.saved"
    flash(t(key, ident=done.ident, version=done.version), "success")
    return redirect(url_for("pages.product", ident=done.ident), 303)


def _page(
    form: dict[str, Any],
    record: registry.Record | None,
    by_field: dict[str, list] | None = None,
    status: int = 200,
    content: list[ox.Triple] | None = None,
    content_name: str = "",
    checked: bool = False,
) -> Response:
    by_field = by_field or {}
    if request.method == "POST" and request.form.get("live") == "1":
        return _live_answer(by_field, status, checked)
    kept = ""
    if content:
        kept = rdfio.serialize_triples(content, ox.RdfFormat.N_TRIPLES).decode("utf-8")
    return pages.render(
        "steward/form.html",
        status=status,
        form=form,
        record=record,
        editing=record is not None,
        results=by_field,
        summary=_summary(by_field),
        checked=checked and not _summary(by_field),
        choices=_choices(),
        kept=kept,
        kept_count=len(content or []),
        content_name=content_name,
        stored_content=len(_store().triples(content_graph(record.ident))) if record else 0,
        dropped=_dropped(record) if record else [],
        action=url_for("steward.edit", ident=record.ident) if record else url_for("steward.new"),
    )


def _live_answer(by_field: dict[str, list], status: int, checked: bool) -> Response:
    """A check asked by the page's script as the steward works (``live=1``): the findings
    per field and the summary's words, as JSON; the page puts them next to the fields."""
    summary = _summary(by_field)
    if summary:
        words = t("steward.summary", n=len(summary))
    else:
        words = t("steward.checked") if checked else ""
    response = jsonify({"fields": by_field, "summary": summary, "status": words})
    response.status_code = status
    return response


@bp.route("/products/new", methods=["GET", "POST"])
def new() -> Response:
    """A form for a new product; "check" shows the rules' report, "register" writes it."""
    caller = steward()
    if request.method == "POST":
        return _work(caller, None)
    return _page(productform.empty(), None)


@bp.route("/products/<ident:ident>/edit", methods=["GET", "POST"])
def edit(ident: str) -> Response:
    """The current version in the form; save makes a new version; withdraw asks first."""
    caller = steward()
    record = owned_record(ident, caller)
    if request.method == "POST":
        action = request.form.get("action", "")
        if action == "withdraw":
            return pages.render("steward/withdraw.html", record=record, title=_title(record))
        if action == "withdraw-confirmed":
            try:
                registry.withdraw(_store(), ident, who=caller)
            except WriteError as exc:
                return pages.page_error(exc.status, "error.title", exc.detail)
            flash(t("steward.withdrawn", ident=ident), "success")
            return redirect(url_for("steward.mine"), 303)
        return _work(caller, record)
    description = _store().triples(product_graph(ident))
    return _page(productform.to_form(description, record.iri), record)


def _dropped(record: registry.Record) -> list[dict[str, Any]]:
    """The stored statements a save from the form would not keep (those the form has no
    field for, in a description written through the API), as rows to warn of."""
    stored = _store().triples(product_graph(record.ident))
    form = productform.to_form(stored, record.iri)
    content = _store().triples(content_graph(record.ident))
    try:
        again = productform.build(
            form,
            base=_base(),
            orgnr=registry.owner_of(_store(), record) or "",
            today=clock.today(),
            items=productform.services(content),
        )
    except FormProblem:
        return []
    lost = productform.lost_statements(stored, again)
    return statement_rows(lost, record.iri, pages.label, "removed")


def _title(record: registry.Record) -> str:
    description = _store().triples(product_graph(record.ident))
    iri = ox.NamedNode(record.iri)
    texts = {
        t.object.language or "": t.object.value
        for t in description
        if t.subject == iri
        and t.predicate.value.endswith("/title")
        and isinstance(t.object, ox.Literal)
    }
    return i18n.pick(texts) or record.ident


@bp.get("/products/<ident:ident>/changes")
def changes(ident: str) -> Response:
    """Every version with what it added and removed, as labelled rows."""
    caller = steward()
    record = owned_record(ident, caller)
    versions = registry.history(_store(), ident, with_content=True)
    return pages.render(
        "steward/history.html",
        record=record,
        title=_title(record),
        versions=readable_versions(versions, record.iri, pages.label),
        status_label=lambda code: pages.label(registry.STATUS + code),
    )


# --- the organisation's products ------------------------------------------------------------


@bp.route("/my/products", methods=["GET", "POST"])
def mine() -> Response:
    """The organisation's products (overdue first) and the agreement requests to answer."""
    caller = steward()
    store = _store()
    if request.method == "POST":
        action = request.form.get("action", "")
        ident = request.form.get("agreement", "")
        if action in ("accept", "refuse") and re.fullmatch(r"[a-z0-9-]{1,128}", ident):
            try:
                done = agreements.transition(store, caller, ident, action)
                flash(t(f"action.{action}.done", ident=done.ident), "success")
            except WriteError as exc:
                flash(exc.detail, "error|en")  # the catalogue's own words are English
        else:
            flash(t("error.bad_request"), "error")
        return redirect(url_for("steward.mine"), 303)
    today = clock.today()
    products = []
    for p in productform_store.organisation_products(store, caller.org or "", today):
        products.append(
            {
                "ident": p.ident,
                "title": i18n.pick(p.titles) or p.ident,
                "status": pages.label(p.status),
                "status_code": p.status.rsplit("/", 1)[-1],
                "version": p.version,
                "quality": p.quality,
                "due": p.due,
                "overdue": p.overdue,
                "frequency": pages.label(p.frequency),
                "modified": p.modified,
            }
        )
    requests_ = [
        agreement_row(a)
        for a in agreements.for_caller(store, caller)
        if a.effective(today) == "requested"
    ]
    return pages.render("steward/mine.html", products=products, requests=requests_)
