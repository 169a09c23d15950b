"""``/api/agreements``: channels request offers, owners accept or refuse, either party
terminates; ``/api/needs``: a channel's information needs and what meets them."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from eti.catalogue import agreements, clock, needs

from . import current
from .auth import identity, require
from .errors import fail
from .negotiation import GRAPHS, negotiate
from .rdfbody import rdf_response

bp = Blueprint("agreements", __name__)


def _store():  # type: ignore[no-untyped-def]
    return current_app.extensions["eti"].store


def _today():  # type: ignore[no-untyped-def]
    return clock.today()


def _json_body() -> dict:
    if request.mimetype != "application/json":
        fail(415, "Unsupported Media Type", "send the request as application/json")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        fail(400, "Bad Request", "the body is not a JSON object")
    return body


HEADER_BUDGET = 4096
"""Bytes the two duty headers may take together. Past it (a channel with dozens of
agreements in force: at 494, 140 kB) the headers name the caller's agreement list
instead: ``http.client`` (``requests``) gives up on a header line over 64 kB, haproxy on
headers over its 16 kB buffer and nginx's default on 4 kB."""


def duty_headers(granted: list[agreements.Agreement]) -> dict[str, str]:
    """``ETI-Duties`` and ``Link`` for an answer that includes the content these agreements
    open (none: no headers): per product, the agreement and the attribution and freshness
    duties a channel must honour. When they would not fit in ``HEADER_BUDGET``, both point
    to ``/api/agreements``, which lists each agreement with its duties."""
    if not granted:
        return {}
    headers = {
        "ETI-Duties": agreements.duty_header(_store(), granted),
        "Link": ", ".join(f'<{a.iri}>; rel="{_HAS_POLICY}"; anchor="{a.target}"' for a in granted),
    }
    if sum(len(k) + len(v) for k, v in headers.items()) <= HEADER_BUDGET:
        return headers
    listing = url_for("agreements.listing")
    return {
        "ETI-Duties": f"agreements={len(granted)}; list=<{listing}>",
        "Link": f'<{listing}>; rel="{_HAS_POLICY}"',
    }


_HAS_POLICY = "http://www.w3.org/ns/odrl/2/hasPolicy"


def duty_list(agreement: agreements.Agreement) -> list[dict[str, str | None]]:
    """The duties of one agreement as JSON: action IRI and refresh interval (or None)."""
    return [
        {"action": action, "interval": interval}
        for action, interval in agreements.duties(_store(), agreement)
    ]


def _summary(agreement: agreements.Agreement) -> dict:
    doc = agreement.to_json(_today())
    doc["href"] = url_for("agreements.read", ident=agreement.ident)
    return doc


@bp.post("/api/agreements")
@require("channel")
def request_offer() -> Response:
    """Request an offer: {offer, purpose, start, end}; an open offer is accepted at once."""
    body = _json_body()
    base = current.settings().base_iri
    agreement = agreements.request(
        _store(),
        identity(),
        offer=body.get("offer"),
        purpose=body.get("purpose"),
        start=body.get("start"),
        end=body.get("end"),
        base=base,
    )
    response = jsonify(_summary(agreement))
    response.status_code = 201
    response.headers["Location"] = url_for("agreements.read", ident=agreement.ident)
    return response


@bp.get("/api/agreements")
@require("channel", "steward", "admin")
def listing() -> Response:
    """The caller's agreements: requests, active, expired, refused and terminated."""
    return jsonify(
        {
            "agreements": [
                {**_summary(a), "duties": duty_list(a)}
                for a in agreements.for_caller(_store(), identity())
            ]
        }
    )


def _party_agreement(ident: str) -> agreements.Agreement:
    found = agreements.get(_store(), ident)
    who = identity()
    if found is None or not (
        who.role == "admin"
        or found.assignee == who.channel
        or (who.role == "steward" and who.org == found.orgnr)
    ):
        fail(404, "Not Found", f"no agreement {ident} that you are party to")
    return found  # type: ignore[return-value]


def _actable_agreement(ident: str) -> agreements.Agreement:
    """The agreement a transition is asked on: 404 when there is none, and for a channel
    that is not its assignee (a channel learns nothing of others' agreements); a steward
    of another organisation gets past here to the lifecycle's 403 (the issue asks that
    accepting another organisation's agreement be refused as forbidden)."""
    found = agreements.get(_store(), ident)
    who = identity()
    if found is None or (who.role == "channel" and found.assignee != who.channel):
        fail(404, "Not Found", f"no agreement {ident} that you are party to")
    return found  # type: ignore[return-value]


@bp.get("/api/agreements/<ident:ident>")
@require("channel", "steward", "admin")
def read(ident: str) -> Response:
    """An agreement (JSON, or RDF by ``Accept``) for its parties."""
    found = _party_agreement(ident)
    media = negotiate(["application/json", *GRAPHS]) or "application/json"
    if media in GRAPHS:
        return rdf_response(_store().triples(f"urn:eti:graph:agreement:{ident}"), media)
    return jsonify(_summary(found))


@bp.post("/api/agreements/<ident:ident>/<any(accept, refuse, terminate):action>")
@require("channel", "steward", "admin")
def act(ident: str, action: str) -> Response:
    """Accept or refuse (the owner's steward), terminate (either party): 404 for an
    unknown agreement or a channel not its assignee, 403 for a steward of another
    organisation or a party the action is not for; nothing changes on a refusal."""
    _actable_agreement(ident)
    agreement = agreements.transition(_store(), identity(), ident, action)
    return jsonify(_summary(agreement))


@bp.get("/api/needs")
@require("channel")
def my_needs() -> Response:
    """The channel's information needs, the products that meet them, and whether it has
    an agreement for each."""
    who = identity()
    return jsonify({"channel": who.channel, "needs": needs.matches(_store(), who, today=_today())})


@bp.post("/api/needs")
@require("channel")
def add_need() -> Response:
    """Record an information need: {description, themes: [IRI], life_event, spatial}."""
    body = _json_body()
    settings = current.settings()
    quota = needs.Quota(
        settings.need_max_bytes, settings.needs_per_channel, settings.need_bytes_per_channel
    )
    iri = needs.add(_store(), identity(), body, quota)
    response = jsonify({"need": iri})
    response.status_code = 201
    return response
