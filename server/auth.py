"""The caller's identity from ``Authorization: Bearer``; role checks for views."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import current_app, flash, g, request
from flask import session as flask_session

from eti.catalogue.auth import ANONYMOUS, AuthError, Identity
from eti.catalogue.oidc import roles_from

from . import current
from .errors import fail

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="eti"'}


def _challenge(error: str, description: str, scope: str | None = None) -> dict[str, str]:
    """An RFC 6750 challenge. The description is ours (never the token or a claim); any
    character RFC 6750 does not allow in it is dropped."""
    text = "".join(c for c in description if c in _ALLOWED)
    value = f'Bearer realm="eti", error="{error}", error_description="{text}"'
    if scope:
        value += f', scope="{scope}"'
    return {"WWW-Authenticate": value}


# error_description: %x20-21 / %x23-5B / %x5D-7E (RFC 6750 section 3)
_ALLOWED = {chr(c) for c in range(0x20, 0x7F)} - {'"', "\\"}


def authenticator() -> Any:
    """The application's authenticator (static tokens, and JWTs when issuers are set),
    made once by ``create_app`` so that the issuers' keys are cached across requests."""
    return current_app.extensions["eti.auth"]


SESSION_BLUEPRINTS = {"pages"}  # routes whose callers may be signed in by the session cookie


def load_caller() -> None:
    """Resolve who calls, once per request (registered as a ``before_request``): from
    ``Authorization: Bearer`` when sent, else on the pages from the session's token. A
    refusal (a token in the URL, a token that does not hold, an issuer whose keys cannot
    be fetched) is kept and raised only when a view reads the caller, so routes that
    never ask (``/healthz``, ``/metrics``) answer as before."""
    g.pop("identity", None)
    g.pop("caller_refused", None)
    try:
        _resolve(session=request.blueprint in SESSION_BLUEPRINTS)
    except Exception as exc:  # 400/401, or the issuer's keys or the store unavailable
        g.pop("identity", None)
        g.caller_refused = exc


def identity(*, session: bool = False) -> Identity:
    """Who calls (resolved by ``load_caller``): anonymous without credentials; 401 for
    credentials that do not hold. ``session``: a page's caller may be signed in by the
    session cookie (for pages outside ``SESSION_BLUEPRINTS``)."""
    if "caller_refused" in g:
        raise g.caller_refused
    unread = session and not g.get("session_read") and "Authorization" not in request.headers
    if "identity" not in g or unread:
        _resolve(session=session)
    return g.identity


def _resolve(*, session: bool) -> None:
    if "access_token" in request.args or "token" in request.args:
        fail(400, "Bad Request", "send the token in the Authorization header, never in the URL")
    header = request.headers.get("Authorization")
    if not header:
        g.identity = _from_session() if session else ANONYMOUS
        return
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        fail(401, "Unauthorized", "use 'Authorization: Bearer <token>'", CHALLENGE)
    try:
        g.identity = authenticator().authenticate(token.strip())
    except AuthError as exc:
        fail(401, "Unauthorized", str(exc), _challenge("invalid_token", str(exc)))
    g.log_extra = {
        **g.get("log_extra", {}),
        "caller": g.identity.role,
        "token": g.identity.token_id,
        **({"client": g.identity.client_id} if g.identity.client_id else {}),
    }


def _from_session() -> Identity:
    """The caller signed in by the page session's token; a token that no longer holds is
    forgotten, with a message on the next page."""
    from .i18n import t

    g.session_read = True
    token = flask_session.get("token")
    if not token:
        return ANONYMOUS
    try:
        return authenticator().authenticate(token)
    except AuthError:
        flask_session.pop("token", None)
        flash(t("signin.expired"), "error")
        return ANONYMOUS


def refuse(
    who: Identity, roles: tuple[str, ...], detail: str, forbidden: str | None = None
) -> None:
    """Stop a caller who lacks one of ``roles``: 401 without credentials; 403 with an
    RFC 6750 ``insufficient_scope`` challenge for a JWT lacking the scope; plain 403
    for a static token of another role."""
    if who.role in roles:
        return
    if who.client_id:
        settings = current.settings()
        scopes = " ".join(roles_from(settings).scope_of(r) for r in roles)
        message = f"{detail}: the token needs the scope {' or '.join(scopes.split())}"
        fail(403, "Forbidden", message, _challenge("insufficient_scope", message, scopes))
    if who.anonymous:
        fail(401, "Unauthorized", detail, CHALLENGE)
    fail(403, "Forbidden", forbidden or f"this needs the role {' or '.join(roles)}")


def require(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let only callers with one of ``roles`` through: 401 when anonymous, 403 otherwise."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            refuse(identity(), roles, "this needs a bearer token")
            return view(*args, **kwargs)

        return wrapper

    return decorate


def purpose() -> str | None:
    """The purpose a request is made for (``purpose`` parameter or ``ETI-Purpose`` header,
    a DPV purpose IRI); logged with the request. None: any purpose the caller's agreements
    permit."""
    value = request.values.get("purpose") or request.headers.get("ETI-Purpose")
    if value is None:
        return None
    value = value.strip()
    if not value.startswith(("http://", "https://")) or any(c in value for c in ' <>"{}|\\^`'):
        fail(400, "Bad Request", f"purpose must be a DPV purpose IRI, not {value!r}")
    g.log_extra = {**g.get("log_extra", {}), "purpose": value}
    return value
