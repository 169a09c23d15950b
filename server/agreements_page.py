"""The agreements page (``/agreements``): a caller's agreements by state, and the
requests and transitions its role allows."""

from __future__ import annotations

import re
from typing import Any

import pyoxigraph as ox
from flask import Response, flash, g, redirect, request, url_for

from eti.catalogue import agreements, registry

from . import current, i18n, pages
from .errors import Problem
from .i18n import t
from .pages import (
    bp,
    catalogue,
    label,
    render,
    who,
)


def agreement_row(a: agreements.Agreement) -> dict[str, Any]:
    """An agreement as the caller sees it: its state today, names, and the actions the
    caller's role may take on it."""
    caller = who()
    state = a.effective(pages.today())
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


def _back_with_reason(problem: Problem) -> Response:
    """A refused request or transition: back to the form, the reason as a message."""
    flash(str(problem.detail), "error|en")  # the catalogue's own words are English
    return redirect(_back(), 303)


@bp.route("/agreements", methods=["GET", "POST"])
def agreements_page() -> Response:
    """A channel's or steward's agreements by state, with the actions its role allows;
    POST ``action`` = request (a channel, with offer, purpose, start, end) or accept,
    refuse, terminate (with ``agreement``)."""
    caller = who()
    if request.method == "POST":
        if caller.anonymous:
            return redirect(url_for("pages.signin"), 303)
        g.show_refusal = _back_with_reason
        action = request.form.get("action", "")
        store = catalogue().store
        if action == "request":
            made = agreements.request(
                store,
                caller,
                offer=request.form.get("offer", ""),
                purpose=request.form.get("purpose", ""),
                start=request.form.get("start") or None,
                end=request.form.get("end") or None,
                base=current.settings().base_iri,
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
        return redirect(_back(), 303)
    groups: dict[str, list[dict[str, Any]]] = {s: [] for s in agreements.STATES}
    if not caller.anonymous:
        for a in agreements.for_caller(catalogue().store, caller):
            row = agreement_row(a)
            groups.setdefault(row["state"], []).append(row)
    order = ["requested", "active", "expired", "terminated", "refused"]
    return render(
        "agreements.html",
        groups=[(s, groups.get(s, [])) for s in order],
        signed_in=not caller.anonymous,
    )
