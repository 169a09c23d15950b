"""The agreement lifecycle (ODRL 2.2; states after the Dataspace Protocol's contract
negotiation, simplified): a channel requests an offer → the owner's steward accepts or
refuses → an active ``odrl:Agreement`` → either party terminates, or it expires at the
end of its period. Open offers (``eti:OpenOffer``) are accepted at once when the
request matches. Every transition is recorded with who and when.

The agreements decide what a channel reads: ``readable_products`` gives the products
whose content a caller may see at a moment, for a purpose.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pyoxigraph as ox

from . import clock, queries
from .auth import Identity
from .namespaces import (
    BRREG,
    DCAT,
    DCT,
    DPV,
    ETI,
    ODRL,
    PROV,
    RDF,
    RDFS,
    XSD,
    agreement_graph,
)
from .provenance import agent_iri, agent_triples
from .store import Store
from .writes import BadInput, Conflict, Forbidden, NotFound, RuleBroken, commit, serialised

STATES = ("requested", "active", "refused", "terminated", "expired")
# action → (allowed from, to, who may do it)
TRANSITIONS = {
    "accept": (("requested",), "active", "owner"),
    "refuse": (("requested",), "refused", "owner"),
    "terminate": (("requested", "active"), "terminated", "either"),
}


@dataclass
class Offer:
    """An offer as the catalogue knows it."""

    iri: str
    target: str
    assigner: str
    open: bool
    purposes: list[str]
    actions: list[str]
    duties: list[tuple[str, str | None]] = field(default_factory=list)  # (action, interval)


@dataclass
class Agreement:
    """An agreement's state, as read back."""

    ident: str
    iri: str
    assigner: str
    assignee: str
    target: str
    offer: str | None
    purpose: str | None
    start: date
    end: date
    status: str  # as stored
    orgnr: str | None = None

    def effective(self, today: date) -> str:
        """The status at ``today``: an active agreement past its end date has expired."""
        if self.status == "active" and today > self.end:
            return "expired"
        return self.status

    def in_force(self, today: date, purpose: str | None = None) -> bool:
        """True when the agreement opens the content now (for ``purpose``, if given)."""
        return (
            self.effective(today) == "active"
            and self.start <= today <= self.end
            and (purpose is None or purpose == self.purpose)
        )

    def to_json(self, today: date) -> dict:
        """A JSON-ready summary."""
        return {
            "id": self.ident,
            "iri": self.iri,
            "assigner": self.assigner,
            "assignee": self.assignee,
            "target": self.target,
            "offer": self.offer,
            "purpose": self.purpose,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "status": self.effective(today),
        }


def _node(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def get_offer(store: Store, iri: str) -> Offer | None:
    """The offer ``iri`` from the public view, or None."""
    rows = list(store.query(queries.load("offer"), bindings={"offer": _node(iri)}))
    if not rows:
        return None
    first = rows[0]
    duties = list(store.query(queries.load("offer-duties"), bindings={"offer": _node(iri)}))
    return Offer(
        iri=iri,
        target=first["target"].value,
        assigner=first["assigner"].value,
        open=any(r["open"] is not None and r["open"].value == "true" for r in rows),
        purposes=sorted({r["purpose"].value for r in rows if r["purpose"] is not None}),
        actions=sorted({r["action"].value for r in rows if r["action"] is not None}),
        duties=sorted(
            {(d["action"].value, d["interval"].value if d["interval"] else None) for d in duties},
            key=str,
        ),
    )


def _agreements(store: Store, query: str, bindings: dict) -> list[Agreement]:
    """The agreements ``query`` finds, one entry per purpose its permissions name (one with
    no purpose when they name none)."""
    out = []
    for row in store.query(queries.load(query), bindings=bindings):
        graph = row["g"]
        purposes = [
            r["purpose"].value
            for r in store.query(queries.load("agreement-purposes"), bindings={"g": graph})
        ]
        for purpose in purposes or [None]:
            out.append(
                Agreement(
                    ident=graph.value.rsplit(":", 1)[-1],
                    iri=row["agreement"].value,
                    assigner=row["assigner"].value,
                    assignee=row["assignee"].value,
                    target=row["target"].value,
                    offer=row["offer"].value if row["offer"] is not None else None,
                    purpose=purpose,
                    start=date.fromisoformat(row["start"].value[:10]),
                    end=date.fromisoformat(row["end"].value[:10]),
                    status=row["status"].value.rsplit("#", 1)[-1],
                    orgnr=row["orgnr"].value if row["orgnr"] is not None else None,
                )
            )
    return out


def get(store: Store, ident: str) -> Agreement | None:
    """One agreement by id."""
    found = _agreements(store, "agreements-all", {"g": _node(agreement_graph(ident))})
    return found[0] if found else None


def for_caller(store: Store, who: Identity) -> list[Agreement]:
    """The agreements a caller is party to (all of them for an admin)."""
    if who.role == "channel" and who.channel:
        return _agreements(store, "agreements-all", {"assignee": _node(who.channel)})
    if who.role == "steward" and who.org:
        # the assigner's organisation number comes from the agents graph
        return _agreements(store, "agreements-of-organisation", {"orgnr": ox.Literal(who.org)})
    if who.role == "admin":
        return _agreements(store, "agreements-all", {})
    return []


def readable_products(
    store: Store, who: Identity, *, purpose: str | None = None, today: date | None = None
) -> list[tuple[str, Agreement]]:
    """(product IRI, agreement) for every agreement that opens content to ``who`` now."""
    today = today or clock.today()
    if who.role != "channel":
        return []
    return [(a.target, a) for a in for_caller(store, who) if a.in_force(today, purpose)]


def duties(store: Store, agreement: Agreement) -> list[tuple[str, str | None]]:
    """(action, refresh interval) of every duty the agreement puts on the channel.

    Kept until the next write to an embedded store: every answer a channel reads through
    its agreements carries them (one lookup per agreement on every request, ~180 ms for
    a channel with 60 agreements, measured by the per-caller bench)."""
    cache: dict = store.__dict__.setdefault("_duties_kept", {})
    key = (store.generation, agreement.ident)
    kept = cache.get(key) if store.kind == "embedded" else None
    if kept is not None:
        return kept
    rows = store.query(
        queries.load("agreement-duties"), bindings={"g": _node(agreement_graph(agreement.ident))}
    )
    found = sorted(
        {(r["action"].value, r["interval"].value if r["interval"] else None) for r in rows}, key=str
    )
    if store.kind == "embedded":
        if len(cache) > 8192:
            cache.clear()
        cache[key] = found
    return found


def duty_header(store: Store, granted: list[Agreement]) -> str:
    """The ``ETI-Duties`` header: per product, the agreement and its duties, e.g.
    ``<product>; agreement=<iri>; duties="attribute refresh=P1D"``."""
    parts = []
    for agreement in granted:
        names = " ".join(
            a.rsplit("/", 1)[-1].rsplit("#", 1)[-1] + (f"={i}" if i else "")
            for a, i in duties(store, agreement)
        )
        parts.append(f'<{agreement.target}>; agreement=<{agreement.iri}>; duties="{names}"')
    return ", ".join(parts)


def _parse_day(value: str | None, name: str) -> date:
    if not value:
        raise BadInput(f"{name} is missing (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise BadInput(f"{name} {value!r} is not a date (YYYY-MM-DD)") from None


def _is_purpose(store: Store, iri: str) -> bool:
    return bool(store.query(queries.load("is-dpv-purpose"), bindings={"purpose": _node(iri)}))


@serialised
def request(
    store: Store,
    who: Identity,
    *,
    offer: str,
    purpose: str,
    start: str | None,
    end: str | None,
    now: datetime | None = None,
    base: str = "https://eti.example/",
) -> Agreement:
    """A channel asks for an offer; an open offer whose terms match is accepted at once."""
    now = now or clock.now()
    if who.role != "channel" or not who.channel:
        raise Forbidden("only information channels request agreements")
    for value, name, example in (
        (offer, "offer", "https://eti.example/offers/flekkefjord-ppt"),
        (purpose, "purpose", DPV + "ServiceProvision"),
    ):
        if value is None or value == "":
            raise BadInput(f"{name} is required: the IRI of the {name}, e.g. {example}")
        if not isinstance(value, str) or not re.match(r"^https?://\S+$", value):
            raise BadInput(f"{name} must be an IRI, e.g. {example}")
    first, last = _parse_day(start, "start"), _parse_day(end, "end")
    if first > last:
        raise BadInput(f"the period starts ({first}) after it ends ({last})")
    if not purpose.startswith(DPV) or not _is_purpose(store, purpose):
        raise BadInput(f"purpose <{purpose}> is not a DPV purpose the catalogue knows")
    known = get_offer(store, offer)
    if known is None:
        raise NotFound(f"no offer <{offer}> in the catalogue")
    if purpose not in known.purposes:
        raise RuleBroken(
            f"the offer permits the purposes {', '.join(known.purposes) or 'none'}, not <{purpose}>"
        )
    candidate = Agreement(
        "", "", known.assigner, who.channel, known.target, offer, purpose, first, last, "requested"
    )
    _check_overlap(store, candidate, now.date())
    ident = (
        f"{re.sub(r'[^a-z0-9]+', '-', known.target.rsplit('/', 1)[-1].lower())[:60]}-"
        f"{secrets.token_hex(4)}".strip("-")
    )
    status = "active" if known.open else "requested"
    iri = f"{base}agreements/{ident}"
    triples = _triples(iri, known, who.channel, purpose, first, last, now)
    transitions = [_transition(iri, 1, "requested", who, now)]
    if known.open:
        transitions.append(
            _transition(iri, 2, "active", Identity(role="system", name="open offer"), now)
        )
    _write(
        store, ident, [*triples, _status(iri, status), *[t for step in transitions for t in step]]
    )
    return get(store, ident)  # type: ignore[return-value]


def _check_overlap(
    store: Store, candidate: Agreement, today: date, ignore: str | None = None
) -> None:
    for other in _agreements(store, "agreements-all", {"assignee": _node(candidate.assignee)}):
        if other.ident == ignore or other.target != candidate.target:
            continue
        # Stored status, not the effective one: an agreement stored active whose period
        # is over (expired) still counts, as it does for the AgreementNoOverlap shape, so
        # the caller gets this 409 with the dates rather than a 422 from the shapes.
        if other.purpose != candidate.purpose or other.status not in ("active", "requested"):
            continue
        if other.start <= candidate.end and candidate.start <= other.end:
            raise Conflict(
                f"agreement {other.ident} ({other.effective(today)}, {other.start} to "
                f"{other.end}) already covers this channel, product and purpose"
            )


@serialised
def transition(
    store: Store, who: Identity, ident: str, action: str, now: datetime | None = None
) -> Agreement:
    """Accept, refuse or terminate an agreement, as its parties may."""
    now = now or clock.now()
    if action not in TRANSITIONS:
        raise BadInput(f"unknown action {action!r}; use accept, refuse or terminate")
    current = get(store, ident)
    if current is None:
        raise NotFound(f"no agreement {ident}")
    allowed_from, to, party = TRANSITIONS[action]
    owner = who.role == "admin" or (who.role == "steward" and who.org == current.orgnr)
    assignee = who.role == "channel" and who.channel == current.assignee
    if not (owner or (party == "either" and assignee)):
        if who.role == "steward":
            raise Forbidden(f"agreement {ident} is for organisation {current.orgnr}'s product")
        raise Forbidden(f"only the {'owner' if party == 'owner' else 'parties'} may {action} it")
    state = current.effective(now.date())
    if state not in allowed_from:
        raise Conflict(f"agreement {ident} is {state}: it cannot be {action}ed")
    if to == "active":
        _check_overlap(store, current, now.date(), ignore=ident)
    graph = agreement_graph(ident)
    triples = [
        t
        for t in store.triples(graph)
        if not (t.subject.value == current.iri and t.predicate.value == ETI + "agreementStatus")
    ]
    count = sum(1 for t in triples if t.predicate.value == PROV + "used") + 1
    extra = _transition(current.iri, count, to, who, now)
    if to == "terminated":
        extra.append(ox.Triple(_node(current.iri), _node(PROV + "invalidatedAtTime"), _time(now)))
    # Ending an agreement adds only its status and the activity that ended it, so it is
    # never refused by the shapes about what the agreement refers to: a channel can end
    # an agreement whose product was withdrawn (its target and offer are gone).
    # Ownership is still checked by the write.
    _write(store, ident, [*triples, _status(current.iri, to), *extra], check=to == "active")
    return get(store, ident)  # type: ignore[return-value]


def _write(store: Store, ident: str, triples: list[ox.Triple], *, check: bool = True) -> None:
    commit(store, {agreement_graph(ident): triples}, check=check)


def _time(value: datetime) -> ox.Literal:
    return ox.Literal(
        value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        datatype=_node(XSD + "dateTime"),
    )


def _status(iri: str, status: str) -> ox.Triple:
    return ox.Triple(_node(iri), _node(ETI + "agreementStatus"), _node(ETI + status))


def _agent(who: Identity) -> ox.NamedNode:
    if who.role == "channel" and who.channel:
        return _node(who.channel)
    if who.role == "steward" and who.org:
        return _node(BRREG + who.org)
    return _node(agent_iri(who))


def _transition(iri: str, n: int, status: str, who: Identity, now: datetime) -> list[ox.Triple]:
    step = _node(f"{iri}#transition-{n}")

    def t(p: str, o: ox.NamedNode | ox.Literal) -> ox.Triple:
        return ox.Triple(step, _node(p), o)

    return [
        t(RDF + "type", _node(PROV + "Activity")),
        t(PROV + "used", _node(iri)),
        t(DCT + "type", _node(ETI + status)),
        t(PROV + "wasAssociatedWith", _agent(who)),
        t(PROV + "endedAtTime", _time(now)),
        t(RDFS + "label", ox.Literal(f"{status} ({who.role})")),
        # a JWT's client too, with whom it acted for
        *([t(PROV + "wasAssociatedWith", _node(agent_iri(who)))] if who.client_id else []),
        *agent_triples(who),
    ]


def _triples(
    iri: str, offer: Offer, channel: str, purpose: str, first: date, last: date, now: datetime
) -> list[ox.Triple]:
    a = _node(iri)
    period, permission, constraint = ox.BlankNode(), ox.BlankNode(), ox.BlankNode()

    def t(
        s: ox.NamedNode | ox.BlankNode, p: str, o: ox.NamedNode | ox.BlankNode | ox.Literal
    ) -> ox.Triple:
        return ox.Triple(s, _node(p), o)

    day = _node(XSD + "date")
    out = [
        t(a, RDF + "type", _node(ODRL + "Agreement")),
        t(a, ODRL + "uid", a),
        t(a, ODRL + "assigner", _node(offer.assigner)),
        t(a, ODRL + "assignee", _node(channel)),
        t(a, ODRL + "target", _node(offer.target)),
        t(a, PROV + "wasDerivedFrom", _node(offer.iri)),
        t(a, DCT + "issued", ox.Literal(now.date().isoformat(), datatype=day)),
        t(a, DCT + "temporal", period),
        t(period, RDF + "type", _node(DCT + "PeriodOfTime")),
        t(period, DCAT + "startDate", ox.Literal(first.isoformat(), datatype=day)),
        t(period, DCAT + "endDate", ox.Literal(last.isoformat(), datatype=day)),
        t(a, ODRL + "permission", permission),
        t(permission, RDF + "type", _node(ODRL + "Permission")),
        t(permission, ODRL + "target", _node(offer.target)),
        t(permission, ODRL + "assigner", _node(offer.assigner)),
        t(permission, ODRL + "assignee", _node(channel)),
        t(permission, ODRL + "constraint", constraint),
        t(constraint, RDF + "type", _node(ODRL + "Constraint")),
        t(constraint, ODRL + "leftOperand", _node(ODRL + "purpose")),
        t(constraint, ODRL + "operator", _node(ODRL + "eq")),
        t(constraint, ODRL + "rightOperand", _node(purpose)),
    ]
    out += [t(permission, ODRL + "action", _node(action)) for action in offer.actions]
    for action, interval in offer.duties:
        duty = ox.BlankNode()
        out += [
            t(permission, ODRL + "duty", duty),
            t(duty, RDF + "type", _node(ODRL + "Duty")),
            t(duty, ODRL + "action", _node(action)),
        ]
        if interval:
            limit = ox.BlankNode()
            out += [
                t(duty, ODRL + "constraint", limit),
                t(limit, RDF + "type", _node(ODRL + "Constraint")),
                t(limit, ODRL + "leftOperand", _node(ODRL + "elapsedTime")),
                t(limit, ODRL + "operator", _node(ODRL + "lteq")),
                t(
                    limit,
                    ODRL + "rightOperand",
                    ox.Literal(interval, datatype=_node(XSD + "duration")),
                ),
            ]
    return out
