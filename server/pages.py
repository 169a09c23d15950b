"""The HTML pages: search, product pages, the SPARQL editor, the validator, agreements.

Thin views: parse the request, call the catalogue, render a template. Pages work without
JavaScript (only the query editor uses it, and it falls back to a plain form). Signing in
keeps a bearer token in the Flask session cookie (HttpOnly, SameSite=Strict, Secure over
https); every POST carries the session's CSRF token. Pages answer in Bokmål or English
(``i18n``) and carry a strict Content-Security-Policy.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    g,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface

from eti.catalogue import agreements, clock, registry
from eti.catalogue.auth import ANONYMOUS, AuthError, Identity
from eti.catalogue.checking import InputError, graph_of, graph_of_url, parse_as_of, parse_profiles
from eti.catalogue.core import Catalogue, QueryRefused
from eti.catalogue.executor import Overloaded, QueryFailed, QueryTimeout
from eti.catalogue.fairness import TooManyQueries
from eti.catalogue.namespaces import content_graph, is_valid_id, product_graph
from eti.catalogue.writes import WriteError

from . import i18n, metrics
from .i18n import language, t

bp = Blueprint("pages", __name__)

# Scripts only from this origin; styles too, but for the editor's own <style> element
# (CodeMirror's style-mod), admitted by a nonce made for each response.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
VARY = "Accept, Accept-Language, Authorization, Cookie"
PER_PAGE = 10
PAGE_ROWS = 500  # most rows the query page shows (downloads have them all)
SHOWN_FACET_VALUES = 8
CSRF_FIELD = "csrf"

DCT = "http://purl.org/dc/terms/"
DCAT = "http://www.w3.org/ns/dcat#"
DPROD = "https://ekgf.github.io/dprod/"
VCARD = "http://www.w3.org/2006/vcard/ns#"
RDFS_COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"
ETI = "https://w3id.org/eti#"
ADMS_STATUS = "http://www.w3.org/ns/adms#status"
ODRL_POLICY = "http://www.w3.org/ns/odrl/2/hasPolicy"

# Product descriptions in RDF: media type → ?format= name (the first name is the link's).
PRODUCT_RDF = {
    "text/turtle": ("ttl", "turtle"),
    "application/ld+json": ("jsonld", "json-ld"),
    "application/n-triples": ("nt", "ntriples"),
    "application/rdf+xml": ("rdf", "rdfxml", "xml"),
}
HTML_TYPES = ("text/html", "application/xhtml+xml")
# Result downloads on the query page: ?format= names the SPARQL endpoint understands.
SOLUTION_DOWNLOADS = [("json", "JSON"), ("xml", "XML"), ("csv", "CSV"), ("tsv", "TSV")]
GRAPH_DOWNLOADS = [
    ("ttl", "Turtle"),
    ("nt", "N-Triples"),
    ("rdfxml", "RDF/XML"),
    ("jsonld", "JSON-LD"),
    ("trig", "TriG"),
    ("nq", "N-Quads"),
]
PROTOCOL_TYPES = [
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
    "text/turtle",
    "application/n-triples",
    "application/rdf+xml",
    "application/ld+json",
    "application/trig",
    "application/n-quads",
]
REPORT_DOWNLOADS = {
    "json": ("application/json", "json"),
    "turtle": ("text/turtle", "ttl"),
    "text": ("text/plain", "txt"),
    "junit": ("application/xml", "xml"),
}
VALIDATE_FORMATS = ["turtle", "trig", "ntriples", "nquads", "rdfxml", "jsonld"]
DEFAULT_QUERY = """PREFIX dct: <http://purl.org/dc/terms/>
PREFIX dprod: <https://ekgf.github.io/dprod/>

SELECT ?product ?title ?modified WHERE {
  ?product a dprod:DataProduct ;
           dct:title ?title ;
           dct:modified ?modified .
  FILTER(LANG(?title) = "nb")
}
ORDER BY DESC(?modified)
"""


# --- set-up -------------------------------------------------------------------------------


class PageSession(SecureCookieSessionInterface):
    """Flask's signed-cookie session; the cookie is Secure whenever the request came over
    https (as well as when SESSION_COOKIE_SECURE says so)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


@bp.record_once
def _setup(state: Any) -> None:
    app: Flask = state.app
    settings = app.config["SETTINGS"]
    if not app.secret_key:
        app.secret_key = getattr(settings, "session_secret", None) or secrets.token_hex(32)
    app.session_interface = PageSession()
    app.config.update(
        SESSION_COOKIE_NAME="eti_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
    )
    app.jinja_env.filters["link_target"] = link_target
    app.jinja_env.globals.update(
        t=t,
        language=language,
        languages=i18n.LANGUAGES,
        language_names=i18n.NAMES,
        long_date=i18n.long_date,
        csrf_token=csrf_token,
        style_nonce=style_nonce,
        who=who,
        who_label=who_label,
        switch_url=switch_url,
        use_language=use_language,
    )


def catalogue() -> Catalogue:
    return current_app.extensions["eti"]


def today() -> date:
    return clock.today()


def use_language(lang: str) -> str:
    """Let a template rendered by another blueprint (e.g. /ontology) fix the language."""
    if lang in i18n.LANGUAGES:
        g.lang, g.lang_fixed = lang, True
    return ""


def switch_url(lang: str) -> str:
    """This page in another language."""
    view_args = request.view_args or {}
    args: dict[str, Any] = {}
    if request.method == "GET":
        args = {k: v for k, v in request.args.to_dict(flat=False).items() if k not in view_args}
    return url_for(request.endpoint or "pages.search", **{**args, **view_args, "lang": lang})


# --- who is signed in; CSRF -----------------------------------------------------------------


def _authenticator():  # type: ignore[no-untyped-def]
    from .auth import authenticator

    return authenticator()


LINK_SCHEMES = re.compile(r"(?:https?|mailto|tel):[^\x00-\x20\x7f]*\Z", re.IGNORECASE)


def link_target(address: str | None) -> str | None:
    """``address`` when a page may make a link of it (http(s), mailto, tel, and nothing a
    browser would strip or reinterpret), else None: the page shows it as text. Every
    link made from data goes through here (the ``link_target`` template filter)."""
    if address and LINK_SCHEMES.match(address):
        return address
    return None


def declared_purpose() -> str | None:
    """The purpose the request declares (``purpose`` / ``ETI-Purpose``), applied on every
    page that reads content, as on the API (400 for one that is not an IRI)."""
    from .auth import purpose

    return purpose()


def who() -> Identity:
    """The caller: from ``Authorization: Bearer`` when sent, else from the session's token."""
    if "identity" in g:
        return g.identity
    if request.headers.get("Authorization"):
        from .auth import identity

        return identity()
    token = session.get("token")
    g.identity = ANONYMOUS
    if token:
        try:
            g.identity = _authenticator().authenticate(token)
        except AuthError:
            session.pop("token", None)
            flash(t("signin.expired"), "error")
    return g.identity


def labels() -> dict[str, dict[str, str]]:
    """Labels of concepts, agents and places (the search index keeps them)."""
    return catalogue().searcher.index().labels


def label(iri: str | None) -> str:
    if not iri:
        return ""
    return i18n.pick(labels().get(iri)) or re.split(r"[/#:]", iri.rstrip("/"))[-1]


def who_label(identity: Identity | None = None) -> str:
    identity = identity or who()
    if identity.role == "admin":
        return t("role.admin")
    if identity.role == "steward":
        org = label(f"https://data.brreg.no/enhetsregisteret/api/enheter/{identity.org}")
        return t("role.steward", org=org or identity.org)
    if identity.role == "channel":
        return t("role.channel", channel=label(identity.channel))
    return identity.name or identity.role


def style_nonce() -> str:
    """This response's CSP nonce for style elements."""
    if "style_nonce" not in g:
        g.style_nonce = secrets.token_urlsafe(18)
    return g.style_nonce


def csrf_token() -> str:
    """The session's CSRF token (made on first use)."""
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return session[CSRF_FIELD]


@bp.before_request
def _check_csrf() -> Response | None:
    if request.method != "POST":
        return None
    expected = session.get(CSRF_FIELD)
    sent = request.form.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        return page_error(400, "error.csrf", t("error.csrf.text"))
    return None


def security_headers(response: Response) -> Response:
    """The headers every HTML answer carries, whichever route made it (pages, /ontology,
    /api/validate's report, error pages): registered on the app, not the blueprint."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = CSP.format(nonce=style_nonce())
        response.headers["Referrer-Policy"] = "same-origin"
    return response


@bp.after_request
def _headers(response: Response) -> Response:
    if response.mimetype == "text/html":
        response.headers["Content-Language"] = language()
        response.headers.setdefault("Vary", VARY)
        if session.get("token") or request.headers.get("Authorization"):
            response.headers["Cache-Control"] = "private, no-store"
    if g.get("lang_asked"):
        response.set_cookie(
            i18n.COOKIE,
            language(),
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=request.is_secure,
            httponly=True,
        )
    return response


def render(template: str, status: int = 200, headers: dict[str, str] | None = None, **ctx: Any):
    """A page: the template with the messages to show, and the page headers."""
    who()  # sign-in problems become messages before the page renders
    html = render_template(template, messages=get_flashed_messages(with_categories=True), **ctx)
    response = Response(html, status=status, mimetype="text/html", headers=headers or {})
    return response


def page_error(status: int, title_key: str, text: str) -> Response:
    return render("error.html", status=status, title=t(title_key), text=text)


# --- search ---------------------------------------------------------------------------------


def _positive(name: str, default: int) -> int:
    try:
        return max(1, int(request.args.get(name, default)))
    except ValueError:
        return default


def _age(modified: str | None) -> str:
    if not modified:
        return ""
    try:
        days = (today() - date.fromisoformat(modified[:10])).days
    except ValueError:
        return ""
    if days <= 0:
        return t("today")
    return t("yesterday") if days == 1 else t("days_ago", n=days)


@bp.get("/")
def search() -> Response:
    """Search box, facets and results: the same search as ``/api/products``."""
    from eti.catalogue.search import FACETS

    lang = language()
    q = request.args.get("q", "").strip()[:200]
    page = _positive("page", 1)
    filters = {name: request.args.getlist(name) for name in FACETS if request.args.getlist(name)}
    result = catalogue().searcher.search(
        q, filters=filters, page=page, per_page=PER_PAGE, lang=lang
    )
    for item in result["results"]:
        item["href"] = url_for("pages.product", ident=item["id"])
        item["theme_labels"] = [label(x) for x in item["themes"]]
        item["status_label"] = label(item["status"])
        item["status_code"] = (item["status"] or "").rsplit("/", 1)[-1]
        item["age"] = _age(item["modified"])
    facets = []
    for name in FACETS:
        chosen = set(filters.get(name, []))
        values = [{**v, "checked": v["value"] in chosen} for v in result["facets"][name]]
        seen = {v["value"] for v in values}
        values += [
            {"value": v, "label": label(v), "count": 0, "checked": True}
            for v in sorted(chosen - seen)
        ]
        if values:
            facets.append({"name": name, "values": values, "chosen": len(chosen)})
    pages = max(1, -(-result["total"] // PER_PAGE))
    args = request.args.to_dict(flat=False)
    args.pop("lang", None)

    def page_url(n: int) -> str:
        return url_for("pages.search", **{**args, "page": [str(n)]})

    return render(
        "search.html",
        q=q,
        result=result,
        facets=facets,
        filters=filters,
        page=page,
        pages=pages,
        page_url=page_url,
        shown=SHOWN_FACET_VALUES,
        api_url=url_for("products.listing") + ("?" + urlencode(args, doseq=True) if args else ""),
    )


# --- product pages ----------------------------------------------------------------------------


class Described:
    """Triples indexed by subject and predicate, for reading a description."""

    def __init__(self, triples: Iterable[ox.Triple]) -> None:
        self.by: dict[Any, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        for triple in triples:
            self.by[triple.subject][triple.predicate.value].append(triple.object)

    def objects(self, subject: Any, predicate: str) -> list[Any]:
        return sorted(self.by.get(subject, {}).get(predicate, []), key=str)

    def iris(self, subject: Any, predicate: str) -> list[str]:
        return [o.value for o in self.objects(subject, predicate) if isinstance(o, ox.NamedNode)]

    def iri(self, subject: Any, predicate: str) -> str | None:
        found = self.iris(subject, predicate)
        return found[0] if found else None

    def text(self, subject: Any, predicate: str) -> str:
        texts: dict[str, str] = {}
        for o in self.objects(subject, predicate):
            if isinstance(o, ox.Literal):
                texts.setdefault(o.language or "", o.value)
        return i18n.pick(texts)

    def texts(self, subject: Any, predicate: str) -> list[str]:
        """Literals in the page's language, else in Bokmål, else untagged ones."""
        found = [o for o in self.objects(subject, predicate) if isinstance(o, ox.Literal)]
        for lang in (language(), "nb", None):
            chosen = {o.value for o in found if o.language == lang}
            if chosen:
                return sorted(chosen)
        return []

    def literal(self, subject: Any, predicate: str) -> str | None:
        for o in self.objects(subject, predicate):
            if isinstance(o, ox.Literal):
                return o.value
        return None


def _concepts(iris: Iterable[str]) -> list[dict[str, str]]:
    return sorted(({"iri": i, "label": label(i)} for i in iris), key=lambda c: c["label"].lower())


def _duty(action: str, interval: str | None) -> str:
    """An ODRL duty in words: 'keep copies fresh (within P7D)'."""
    name = re.split(r"[/#]", action)[-1]
    text = t(f"duty.{name}") if f"duty.{name}" in i18n.MESSAGES else label(action)
    return f"{text} ({t('duty.within', interval=interval)})" if interval else text


def _contact(d: Described, node: Any) -> dict[str, Any]:
    def strip(iri: str | None, prefix: str) -> str | None:
        return iri[len(prefix) :] if iri and iri.startswith(prefix) else iri

    return {
        "name": d.text(node, VCARD + "fn") or d.text(node, VCARD + "organization-name"),
        "url": d.iri(node, VCARD + "hasURL"),
        "email": strip(d.iri(node, VCARD + "hasEmail"), "mailto:"),
        "phone": strip(d.iri(node, VCARD + "hasTelephone"), "tel:"),
    }


def _validation(ident: str) -> Any:
    """The product's validation report, as a write would make it (kept until the store is
    written or the day changes)."""
    from eti.catalogue.writes import validate_changes

    store = catalogue().store
    cache = current_app.extensions.setdefault("eti.pages.validation", {})
    key = (ident, getattr(store, "generation", 0), today())
    if key not in cache:
        reports = validate_changes(
            store, {product_graph(ident): store.triples(product_graph(ident))}, as_of=key[2]
        )
        if len(cache) > 256:
            cache.clear()
        cache[key] = reports[0] if reports else None
    return cache[key]


def _validation_summary(ident: str, iri: str, visible: set[str]) -> dict[str, Any] | None:
    try:
        report = _validation(ident)
    except WriteError:
        return None
    if report is None:
        return None
    quality = report.quality.get(iri)
    results = [
        {
            "severity": r.severity,
            "message": r.message(language()),
            "resource": str(r.resource),
        }
        for r in report.results
        if str(r.resource) in visible
    ]
    return {
        "conforms": report.conforms,
        "counts": report.counts,
        "quality": quality,
        "results": results,
    }


def _product_model(ident: str, record: registry.Record) -> dict[str, Any]:
    cat = catalogue()
    caller = who()
    # one view decision for the page, as for the API, for the purpose declared
    access = cat.access(caller, purpose=declared_purpose())
    readable = access.reads(content_graph(ident))
    triples = cat.product_triples(ident, caller, access=access)
    d = Described(triples)
    p = ox.NamedNode(record.iri)
    doc = cat.searcher.index().documents.get(record.iri)
    frequency = d.iri(p, DCT + "accrualPeriodicity")
    modified = d.literal(p, DCT + "modified")
    freshness = None
    if frequency and modified:
        from eti.catalogue.validation import freshness_deadline

        try:
            deadline = freshness_deadline(date.fromisoformat(modified[:10]), frequency)
        except ValueError:
            deadline = None
        if deadline is not None:
            freshness = {"fresh": today() <= deadline, "deadline": deadline}
    datasets = []
    for node in d.objects(p, DPROD + "outputDataset"):
        distributions = [
            {
                "title": d.text(dist, DCT + "title"),
                "format": label(d.iri(dist, DCT + "format")),
                "licence": label(d.iri(dist, DCT + "license")),
                "access_url": d.iri(dist, DCAT + "accessURL"),
            }
            for dist in d.objects(node, DCAT + "distribution")
        ]
        datasets.append(
            {
                "iri": getattr(node, "value", ""),
                "title": d.text(node, DCT + "title"),
                "description": d.text(node, DCT + "description"),
                "distributions": distributions,
            }
        )
    ports = [
        {
            "iri": getattr(node, "value", ""),
            "title": d.text(node, DCT + "title"),
            "description": d.text(node, DCT + "description"),
            "endpoint": d.iri(node, DCAT + "endpointURL"),
        }
        for node in d.objects(p, DPROD + "outputPort")
    ]
    items = [
        {"iri": iri, "title": d.text(ox.NamedNode(iri), DCT + "title")}
        for iri in d.iris(p, ETI + "isAuthoritativeSourceFor")
    ]
    offers = []
    for iri in d.iris(p, ODRL_POLICY):
        offer = agreements.get_offer(cat.store, iri)
        if offer is None:
            continue
        offers.append(
            {
                "iri": iri,
                "comment": d.text(ox.NamedNode(iri), RDFS_COMMENT),
                "open": offer.open,
                "purposes": _concepts(offer.purposes),
                "duties": [_duty(action, interval) for action, interval in offer.duties],
            }
        )
    mine = []
    if not caller.anonymous:
        mine = [
            _agreement_row(a)
            for a in agreements.for_caller(cat.store, caller)
            if a.target == record.iri
        ]
    history = [
        {
            "version": v.version,
            "issued": v.issued,
            "status": label(registry.STATUS + v.status),
            "agent": re.split(r"[:/]", v.agent or "")[-1] if v.agent else "",
            "added": len(v.added),
            "removed": len(v.removed),
        }
        for v in reversed(
            registry.history(
                cat.store,
                ident,
                with_content=cat.reads_content(caller, record, purpose=declared_purpose()),
            )
        )
    ]
    visible = {str(t.subject.value) for t in triples if isinstance(t.subject, ox.NamedNode)}
    contacts = [_contact(d, node) for node in d.objects(p, DCAT + "contactPoint")]
    return {
        "ident": ident,
        "iri": record.iri,
        "record": record,
        "title": d.text(p, DCT + "title") or ident,
        "description": d.text(p, DCT + "description"),
        "keywords": d.texts(p, DCAT + "keyword"),
        "owner": _concepts(d.iris(p, DPROD + "dataProductOwner")),
        "publisher": _concepts(d.iris(p, DCT + "publisher")),
        "contacts": contacts,
        "themes": _concepts(d.iris(p, DCAT + "theme")),
        "events": _concepts(sorted(doc.facets.get("event", set())) if doc else []),
        "spatial": _concepts(d.iris(p, DCT + "spatial")),
        "frequency": label(frequency),
        "modified": modified,
        "issued": d.literal(p, DCT + "issued"),
        "version": d.literal(p, DCAT + "version"),
        "status": label(d.iri(p, ADMS_STATUS)),
        "status_code": (d.iri(p, ADMS_STATUS) or "").rsplit("/", 1)[-1],
        "access": label(d.iri(p, DCT + "accessRights")),
        "languages": [c["label"] for c in _concepts(d.iris(p, DCT + "language"))],
        "freshness": freshness,
        "datasets": datasets,
        "ports": ports,
        "info_items": items,
        "readable": readable,
        "offers": offers,
        "agreements": mine,
        "history": history,
        "validation": _validation_summary(ident, record.iri, visible),
        "today": today().isoformat(),
        "end": (today() + timedelta(days=364)).isoformat(),
        "formats": [(media, names[0]) for media, names in PRODUCT_RDF.items()],
    }


def _product_links(ident: str) -> str:
    here = url_for("pages.product", ident=ident)
    links = [f'<{here}>; rel="canonical"']
    links += [
        f'<{here}?format={names[0]}>; rel="alternate"; type="{media}"'
        for media, names in PRODUCT_RDF.items()
    ]
    return ", ".join(links)


def _product_media() -> str:
    wanted = request.args.get("format", "").lower()
    for media, names in PRODUCT_RDF.items():
        if wanted in names or wanted == media:
            return media
    best = request.accept_mimetypes.best_match([*HTML_TYPES, *PRODUCT_RDF], default="text/html")
    return "text/html" if best in HTML_TYPES else best


@bp.get("/products/<ident:ident>")
def product(ident: str) -> Response:
    """A product: its page for browsers, its description in RDF for clients (``Accept``
    or ``?format=``); 404 for an unknown id, 410 for a withdrawn product."""
    from .rdfbody import rdf_response

    media = _product_media()
    headers = {"Vary": VARY, "Link": _product_links(ident)}
    record = registry.get_record(catalogue().store, ident) if is_valid_id(ident) else None
    if record is None or record.withdrawn:
        status = 404 if record is None else 410
        if media != "text/html":
            from .errors import error_response

            response = error_response(
                status,
                "Not Found" if status == 404 else "Gone",
                f"no product {ident}" if status == 404 else f"product {ident} was withdrawn",
            )
            response.headers["Vary"] = VARY
            return response
        if status == 404:
            return render(
                "error.html",
                status=404,
                headers={"Vary": VARY},
                title=t("error.404"),
                text=t("error.404.text", ident=ident),
            )
        return render(
            "error.html",
            status=410,
            headers=headers,
            title=t("product.withdrawn"),
            text=t("product.withdrawn_text", ident=ident),
            history=url_for("products.history", ident=ident),
        )
    if media != "text/html":
        response = rdf_response(
            catalogue().product_triples(ident, who(), purpose=declared_purpose()),
            media,
            headers=headers,
        )
        response.headers["Content-Location"] = (
            url_for("pages.product", ident=ident) + "?format=" + PRODUCT_RDF[media][0]
        )
        if not who().anonymous:
            response.headers["Cache-Control"] = "private, no-store"
        return response
    return render("product.html", headers=headers, p=_product_model(ident, record))


# --- the query editor -------------------------------------------------------------------------


def _examples() -> list[dict[str, str]]:
    from eti.catalogue import demo

    out = []
    for name, text in demo.example_queries().items():
        head = {"title": name, "description": ""}
        for line in text.splitlines():
            match = re.match(r"#\s*(title|title-en|description):\s*(.*)", line)
            if match:
                head[match[1]] = match[2].strip()
            elif line.strip() and not line.startswith("#"):
                break
        # the title in the page's language (Bokmål, or the English title line)
        english = language() == "en" and head.get("title-en")
        title, title_lang = (head["title-en"], "en") if english else (head["title"], "nb")
        out.append(
            {
                "title": title,
                "title_lang": title_lang,
                "description": head["description"],
                "name": name,
                "text": text,
                "href": url_for("pages.query", query=text),
            }
        )
    return out


def display_prefixes() -> dict[str, str]:
    """Prefixes that shorten IRIs in result tables (the link keeps the whole IRI)."""
    from eti.catalogue.namespaces import PREFIXES

    eu = "http://publications.europa.eu/resource/authority/"
    return {
        **PREFIXES,
        "lostema": "https://psi.norge.no/los/tema/",
        "losord": "https://psi.norge.no/los/ord/",
        "loshendelse": "https://psi.norge.no/los/hendelse/",
        "enhet": "https://data.brreg.no/enhetsregisteret/api/enheter/",
        "theme": eu + "data-theme/",
        "freq": eu + "frequency/",
        "access": eu + "access-right/",
        "lang": eu + "language/",
        "filetype": eu + "file-type/",
        "licence": eu + "licence/",
        "diststatus": eu + "distribution-status/",
    }


def _compact(iri: str) -> str:
    best = ""
    for prefix, namespace in display_prefixes().items():
        local = iri[len(namespace) :]
        if (
            iri.startswith(namespace)
            and len(namespace) > len(best)
            and re.fullmatch(r"[\w.-]+", local)
        ):
            best, name = namespace, f"{prefix}:{local}"
    return name if best else iri


def _term(term: dict[str, str] | None) -> dict[str, Any] | None:
    """A result term for the template: its text, and a link where one helps."""
    if not term:
        return None
    kind, value = term.get("type"), term.get("value", "")
    out: dict[str, Any] = {"kind": kind, "value": value, "href": None, "note": "", "iri": ""}
    if kind == "uri":
        out["iri"], out["value"] = value, _compact(value)
        base = catalogue().settings.base_iri + "products/"
        if value.startswith(base) and is_valid_id(value[len(base) :]):
            out["href"] = url_for("pages.product", ident=value[len(base) :])
        elif not value.startswith(catalogue().settings.base_iri):
            out["href"] = link_target(value)
    elif kind == "bnode":
        out["value"] = "_:" + value
    elif kind == "literal":
        if term.get("xml:lang"):
            out["note"] = "@" + term["xml:lang"]
        elif term.get("datatype"):
            out["note"] = re.split(r"[#/]", term["datatype"])[-1]
    return out


def _ox_term(node: Any) -> dict[str, str]:
    if isinstance(node, ox.NamedNode):
        return {"type": "uri", "value": node.value}
    if isinstance(node, ox.BlankNode):
        return {"type": "bnode", "value": node.value}
    if isinstance(node, ox.Literal):
        out = {"type": "literal", "value": node.value}
        if node.language:
            out["xml:lang"] = node.language
        elif node.datatype:
            out["datatype"] = node.datatype.value
        return out
    return {"type": "literal", "value": str(node)}


def _run_query(text: str) -> dict[str, Any]:
    """Run a query over the caller's view; a dict the template shows (or an error)."""
    from .sparql import fair_share

    cat = catalogue()
    try:
        answer = cat.answer(
            text,
            graphs=cat.view_for(who(), purpose=declared_purpose()),
            solutions_media="application/sparql-results+json",
            graph_media="application/n-triples",
            max_rows=PAGE_ROWS,
            **fair_share(who()),
        )
        body = b"".join(answer.chunks)
    except Overloaded as exc:  # busy, not wrong: 503 + Retry-After, as /sparql answers
        metrics.current().reject("overloaded")
        return {"error": str(exc), "status": 503, "retry_after": "2"}
    except QueryTimeout as exc:
        metrics.current().timeout()
        return {"error": str(exc), "status": 503, "retry_after": "5"}
    except TooManyQueries as exc:  # this caller's share is taken: 429, as /sparql answers
        metrics.current().reject("per_caller")
        return {"error": str(exc), "status": 429, "retry_after": "2"}
    except QueryFailed as exc:
        if exc.kind in ("syntax", "query"):
            return {"error": str(exc)}
        return {"error": str(exc), "status": 503, "retry_after": "1"}  # the store failed
    except (QueryRefused, ValueError) as exc:
        return {"error": str(exc)}
    out: dict[str, Any] = {"kind": answer.kind, "truncated": answer.truncated, "max": PAGE_ROWS}
    if answer.kind == "boolean":
        out["boolean"] = bool(json.loads(body)["boolean"])
    elif answer.kind == "solutions":
        doc = json.loads(body)
        out["vars"] = doc["head"].get("vars", [])
        bindings = doc["results"]["bindings"]
        out["rows"] = [[_term(row.get(v)) for v in out["vars"]] for row in bindings]
    else:
        triples = ox.parse(body, ox.RdfFormat.N_TRIPLES) if body.strip() else []
        out["vars"] = ["subject", "predicate", "object"]
        out["rows"] = [
            [_term(_ox_term(x)) for x in (q.subject, q.predicate, q.object)] for q in triples
        ]
    return out


def _wants_protocol() -> bool:
    if request.values.get("format"):
        return True
    best = request.accept_mimetypes.best_match([*HTML_TYPES, *PROTOCOL_TYPES], default="text/html")
    return best not in HTML_TYPES


@bp.route("/query", methods=["GET", "POST"])
def query() -> Response:
    """The SPARQL editor. With ``query=`` the result is shown (a shareable URL); asked for
    a result format (``format=`` or ``Accept``) it answers as ``/sparql`` does, over the
    signed-in caller's view."""
    text = request.values.get("query")
    if text is not None and _wants_protocol():
        who()  # the session's caller is the protocol's caller
        from .sparql import answer

        return answer()
    result = _run_query(text) if text and text.strip() else None
    caller = who()
    endpoint = url_for("pages.query") if not caller.anonymous else url_for("sparql.sparql")
    downloads = []
    if result and "error" not in result:
        names = GRAPH_DOWNLOADS if result["kind"] == "graph" else SOLUTION_DOWNLOADS
        downloads = [
            (title, f"{endpoint}?{urlencode({'query': text, 'format': name})}", name)
            for name, title in names
        ]
    failed = result is not None and "error" in result
    retry = result.get("retry_after") if failed else None
    return render(
        "query.html",
        status=result.get("status", 400) if failed else 200,
        headers={"Retry-After": retry} if retry else None,
        text=text if text is not None else DEFAULT_QUERY,
        result=result,
        examples=_examples(),
        endpoint=endpoint,
        downloads=downloads,
        share=url_for("pages.query", query=text) if text else None,
        base_iri=catalogue().settings.base_iri,
        prefixes=display_prefixes(),
        solution_downloads=SOLUTION_DOWNLOADS,
        graph_downloads=GRAPH_DOWNLOADS,
    )


# --- the validator ----------------------------------------------------------------------------


def _validation_input(form: dict[str, Any], limit: int) -> Any:
    settings = current_app.config["SETTINGS"]
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


# --- agreements -------------------------------------------------------------------------------


def _agreement_row(a: agreements.Agreement) -> dict[str, Any]:
    caller = who()
    state = a.effective(today())
    owner = caller.role == "admin" or (caller.role == "steward" and caller.org == a.orgnr)
    assignee = caller.role == "channel" and caller.channel == a.assignee
    actions = [
        action
        for action, (allowed_from, _to, party) in agreements.TRANSITIONS.items()
        if state in allowed_from and (owner or (party == "either" and assignee))
    ]
    ident = registry.id_of_iri(catalogue().store, ox.NamedNode(a.target))
    doc = catalogue().searcher.index().documents.get(a.target)
    title = i18n.pick(doc.texts.get("title")) if doc else ""
    return {
        "ident": a.ident,
        "state": state,
        "product": title or label(a.target),
        "product_href": url_for("pages.product", ident=ident) if ident else None,
        "channel": label(a.assignee),
        "owner": label(a.assigner),
        "purpose": label(a.purpose),
        "start": a.start.isoformat(),
        "end": a.end.isoformat(),
        "actions": actions,
    }


def _back() -> str:
    target = request.form.get("next", "")
    if re.fullmatch(r"/products/[a-z0-9-]+", target):
        return target
    return url_for("pages.agreements_page")


@bp.route("/agreements", methods=["GET", "POST"])
def agreements_page() -> Response:
    """A channel's or steward's agreements by state, with the actions its role allows;
    POST ``action`` = request (a channel, with offer, purpose, start, end) or accept,
    refuse, terminate (with ``agreement``)."""
    caller = who()
    if request.method == "POST":
        if caller.anonymous:
            return redirect(url_for("pages.signin"), 303)
        action = request.form.get("action", "")
        store = catalogue().store
        try:
            if action == "request":
                made = agreements.request(
                    store,
                    caller,
                    offer=request.form.get("offer", ""),
                    purpose=request.form.get("purpose", ""),
                    start=request.form.get("start") or None,
                    end=request.form.get("end") or None,
                    base=catalogue().settings.base_iri,
                )
                flash(
                    t("action.request.done", ident=made.ident, status=t("status." + made.status)),
                    "success",
                )
            elif action in agreements.TRANSITIONS:
                ident = request.form.get("agreement", "")
                done = agreements.transition(store, caller, ident, action)
                flash(t(f"action.{action}.done", ident=done.ident), "success")
            else:
                flash(t("error.bad_request"), "error")
        except WriteError as exc:
            flash(exc.detail, "error|en")  # the catalogue's own words are English
        return redirect(_back(), 303)
    groups: dict[str, list[dict[str, Any]]] = {s: [] for s in agreements.STATES}
    if not caller.anonymous:
        for a in agreements.for_caller(catalogue().store, caller):
            row = _agreement_row(a)
            groups.setdefault(row["state"], []).append(row)
    order = ["requested", "active", "expired", "terminated", "refused"]
    return render(
        "agreements.html",
        groups=[(s, groups.get(s, [])) for s in order],
        signed_in=not caller.anonymous,
    )


# --- signing in -------------------------------------------------------------------------------


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> Response:
    """Sign in with a bearer token, kept in the session cookie."""
    error = None
    if request.method == "POST":
        token = request.form.get("token", "").strip()
        if not token:
            error = t("signin.empty")
        else:
            try:
                identity = _authenticator().authenticate(token)
            except AuthError as exc:
                error = t("signin.failed", why=str(exc))
            else:
                session.clear()
                session["token"] = token
                session[CSRF_FIELD] = secrets.token_urlsafe(32)
                g.identity = identity
                flash(t("signin.done", who=who_label(identity)), "success")
                return redirect(url_for("pages.agreements_page"), 303)
    return render(
        "signin.html",
        status=401 if error else 200,
        headers={"WWW-Authenticate": 'Bearer realm="eti"'} if error else None,
        error=error,
    )


@bp.post("/signout")
def signout() -> Response:
    """Forget the session's token."""
    session.clear()
    g.identity = ANONYMOUS
    flash(t("signout.done"), "success")
    return redirect(url_for("pages.search"), 303)
