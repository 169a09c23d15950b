"""The caller's identity from ``Authorization: Bearer``; role checks for views."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import current_app, g, request

from eti.catalogue.auth import ANONYMOUS, AuthError, Identity, TokenTable

from .errors import fail

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="eti"'}


def identity() -> Identity:
    """Who calls: anonymous without credentials; 401 for credentials that do not hold."""
    if "identity" in g:
        return g.identity
    if "access_token" in request.args or "token" in request.args:
        fail(400, "Bad Request", "send the token in the Authorization header, never in the URL")
    header = request.headers.get("Authorization")
    if not header:
        g.identity = ANONYMOUS
        return g.identity
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        fail(401, "Unauthorized", "use 'Authorization: Bearer <token>'", CHALLENGE)
    authenticator = current_app.extensions.get("eti.auth") or TokenTable(
        current_app.extensions["eti"].store
    )
    try:
        g.identity = authenticator.authenticate(token.strip())
    except AuthError as exc:
        fail(401, "Unauthorized", str(exc), CHALLENGE)
    g.log_extra = {
        **g.get("log_extra", {}),
        "caller": g.identity.role,
        "token": g.identity.token_id,
    }
    return g.identity


def require(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let only callers with one of ``roles`` through: 401 when anonymous, 403 otherwise."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            who = identity()
            if who.anonymous:
                fail(401, "Unauthorized", "this needs a bearer token", CHALLENGE)
            if who.role not in roles:
                fail(403, "Forbidden", f"this needs the role {' or '.join(roles)}")
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
