"""The HTML pages' common ground: the ``pages`` blueprint, the session and its CSRF token,
the caller, page headers, rendering, and refusals shown as pages. Each page has its own
module registering its routes on ``bp``: ``search_page``, ``product_page``,
``query_page``, ``validate_page``, ``agreements_page``, ``signin_page``.

Thin views: parse the request, call the catalogue, render a template. Pages work without
JavaScript (only the query editor uses it, and it falls back to a plain form). Signing in
keeps a bearer token in the Flask session cookie (HttpOnly, SameSite=Strict, Secure over
https); every POST carries the session's CSRF token. Pages answer in Bokmål or English
(``i18n``) and carry a strict Content-Security-Policy.
"""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import date
from typing import Any

import flask_babel
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    get_flashed_messages,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface

from eti.catalogue import clock
from eti.catalogue.auth import Identity
from eti.catalogue.core import Catalogue

from . import errors, i18n
from .auth import identity, purpose
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
CSRF_FIELD = "csrf"
HTML_TYPES = ("text/html", "application/xhtml+xml")
# --- set-up -------------------------------------------------------------------------------


class PageSession(SecureCookieSessionInterface):
    """Flask's signed-cookie session; the cookie is Secure whenever the request came over
    https (as well as when SESSION_COOKIE_SECURE says so)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


@bp.record_once
def _setup(state: Any) -> None:
    app: Flask = state.app
    settings = app.config["SETTINGS"]  # not yet a request: the app at hand
    if not app.secret_key:
        app.secret_key = getattr(settings, "session_secret", None) or secrets.token_hex(32)
    app.session_interface = PageSession()
    app.config.update(
        SESSION_COOKIE_NAME="eti_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
    )
    i18n.init_app(app)
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
        flask_babel.refresh()  # Flask-Babel keeps the locale it picked first for a request
    return ""


def switch_url(lang: str) -> str:
    """This page in another language."""
    view_args = request.view_args or {}
    args: dict[str, Any] = {}
    if request.method == "GET":
        args = {k: v for k, v in request.args.to_dict(flat=False).items() if k not in view_args}
    return url_for(request.endpoint or "pages.search", **{**args, **view_args, "lang": lang})


# --- who is signed in; CSRF -----------------------------------------------------------------


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
    return purpose()


def who() -> Identity:
    """The caller (``auth.load_caller``): from ``Authorization: Bearer`` when sent, else
    from the session's token."""
    return identity(session=True)


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


def page_error(
    status: int, title_key: str, text: str, headers: dict[str, str] | None = None
) -> Response:
    return render("error.html", status=status, headers=headers, title=t(title_key), text=text)


def _refused(exc: Exception) -> Response:
    """A refusal of the catalogue on a page (``errors.problem_of`` says what it is): shown
    as the view asked (``g.show_refusal``: a refused write back at its form, a refused
    query in the editor), else on an error page; the editor answering as ``/sparql``
    (``g.protocol``) answers as the endpoint does."""
    problem = errors.problem_of(exc)
    if g.get("protocol"):
        return errors.api_response(problem)
    show = g.get("show_refusal")
    if show is not None:
        return show(problem)
    return page_error(problem.status, "error.title", str(problem.detail), problem.headers)


for _kind in errors.REFUSALS:
    bp.register_error_handler(_kind, _refused)
