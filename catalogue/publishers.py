"""Whose a product is: the organisations a description names, checked against the
agents graph, and who may register, change or withdraw it.

The agents graph is the catalogue's word on who is who; a steward may only register
products of its own organisation, and a product belongs to its publisher's organisation.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyoxigraph as ox

from . import queries
from .auth import Identity
from .namespaces import BRREG, DCT, history_graph
from .records import Record
from .store import Store
from .submission import IDENTIFIER, triple_key
from .writes import Forbidden


def registered_agent(store: Store, agent: ox.NamedNode) -> list[ox.Triple]:
    """What the agents graph says about ``agent`` (empty when it is not in it)."""
    return list(store.query(queries.load("agent-description"), bindings={"agent": agent}))


def check_agents(store: Store, triples: Sequence[ox.Triple]) -> None:
    """Refuse a body that restates an organisation or channel differently from the agents
    graph, or gives an Enhetsregisteret IRI another organisation number than its own.

    The agents graph is the catalogue's word on who is who: a product body that said
    ``enhet:983544622 dct:identifier "889640782"`` would otherwise let Nav's steward
    register as Helsedirektoratet, and would add the claim to the public view."""
    stated: dict[ox.NamedNode, set[str]] = {}
    for t in triples:
        if isinstance(t.subject, ox.NamedNode):
            stated.setdefault(t.subject, set()).add(triple_key(t))
    for subject, keys in sorted(stated.items(), key=lambda item: item[0].value):
        if subject.value.startswith(BRREG):
            number = subject.value[len(BRREG) :]
            claimed = {
                t.object.value
                for t in triples
                if t.subject == subject and t.predicate.value == DCT + "identifier"
            }
            if claimed - {number}:
                raise Forbidden(
                    f"<{subject.value}> is organisation {number} in Enhetsregisteret, but "
                    f"the body gives it dct:identifier {', '.join(sorted(claimed))}"
                )
        known = registered_agent(store, subject)
        if not known:
            continue
        differ = sorted(keys - {triple_key(t) for t in known})
        if differ:
            raise Forbidden(
                f"the body states about <{subject.value}> what the catalogue's agents graph "
                f"does not say ({differ[0]}{' and more' if len(differ) > 1 else ''}): "
                "organisations and channels are kept in the agents graph, not restated "
                "in a product"
            )


def orgnrs(
    store: Store, description: Sequence[ox.Triple], iri: ox.NamedNode, predicate: str
) -> set[str]:
    """Organisation numbers of the agents ``iri`` names with ``predicate``.

    An agent in the agents graph has the number the agents graph gives it, whatever the
    body says; an Enhetsregisteret IRI has its own; only another agent takes the body's
    ``dct:identifier``."""
    agents = {t.object for t in description if t.subject == iri and t.predicate.value == predicate}
    numbers: set[str] = set()
    for agent in agents:
        if isinstance(agent, ox.NamedNode):
            known = registered_agent(store, agent)
            if known:
                numbers.update(t.object.value for t in known if t.predicate.value == IDENTIFIER)
                continue
            if agent.value.startswith(BRREG):
                numbers.add(agent.value[len(BRREG) :])
                continue
        numbers.update(
            t.object.value
            for t in description
            if t.subject == agent and t.predicate.value == IDENTIFIER
        )
    return numbers


def owner_of(store: Store, record: Record) -> str | None:
    """The organisation a registered product belongs to: its publisher's number in the
    agents graph, else the one its latest stored description gives (a publisher that is
    not in the agents graph), so that no other steward can claim it."""
    if record.orgnr is not None:
        return record.orgnr
    iri = ox.NamedNode(record.iri)
    for n in range(record.version, 0, -1):
        description = store.triples(history_graph(record.ident, n))
        if description:
            found = orgnrs(store, description, iri, DCT + "publisher")
            return next(iter(found)) if len(found) == 1 else None
    return None


def check_scope(
    store: Store, who: Identity, owners: set[str], publishers: set[str], record: Record | None
) -> None:
    """Refuse a registration ``who`` may not make: only an admin, or a steward of the
    organisation that owns and publishes the product (and owns its record), may."""
    if who.role == "admin":
        return
    if who.role != "steward":
        raise Forbidden("only stewards (and admins) register products")
    if owners != {who.org} or publishers != {who.org}:
        raise Forbidden(
            f"a steward of {who.org} may only register products whose owner and "
            f"publisher are organisation {who.org} (found owner "
            f"{', '.join(sorted(owners)) or 'none'}, publisher "
            f"{', '.join(sorted(publishers)) or 'none'})"
        )
    if record is not None and (owner := owner_of(store, record)) != who.org:
        raise Forbidden(
            f"product {record.ident} belongs to organisation {owner}"
            if owner
            else f"product {record.ident} has no owning organisation: only an admin may change it"
        )
