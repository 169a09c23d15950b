"""Signing in (``/signin``) with a bearer token kept in the session cookie, and out."""

from __future__ import annotations

import secrets

from flask import Response, flash, g, redirect, request, session, url_for

from eti.catalogue.auth import ANONYMOUS, AuthError

from .auth import authenticator
from .i18n import t
from .pages import (
    CSRF_FIELD,
    bp,
    render,
    who_label,
)


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
                identity = authenticator().authenticate(token)
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
