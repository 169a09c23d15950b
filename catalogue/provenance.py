"""Who a write is attributed to: the PROV agent of an identity, and what is said of it.

A static token's writes are attributed to ``urn:eti:agent:<role>:<token id>``. A JWT's
writes are attributed to its client, a ``prov:SoftwareAgent`` whose IRI names the role,
the organisation the token is for, the supplier acting for it (Maskinporten delegation)
and the client id; the agent acted on behalf of the organisation, or of the supplier who
in turn acted on behalf of the organisation.
"""

from __future__ import annotations

from urllib.parse import quote

import pyoxigraph as ox

from .auth import Identity
from .namespaces import BRREG, DCT, PROV, RDF, RDFS

DEMO_AGENT = "urn:eti:agent:demo-loader"


def agent_iri(who: Identity) -> str:
    """The PROV agent a write is attributed to."""
    if who.client_id:
        parts = [f"urn:eti:agent:{who.role}"]
        if who.consumer:
            parts.append(f"org:{who.consumer}")
        if who.supplier:
            parts.append(f"supplier:{who.supplier}")
        parts.append("client:" + quote(who.client_id, safe=""))
        return ":".join(parts)
    if who.token_id:
        return f"urn:eti:agent:{who.role}:{who.token_id}"
    return DEMO_AGENT if who.role == "admin" and who.name == "demo" else f"urn:eti:agent:{who.role}"


def agent_triples(who: Identity) -> list[ox.Triple]:
    """What the catalogue records say of a JWT client agent (nothing for other agents):
    its type, client id, label and on whose behalf it acted."""
    if not who.client_id:
        return []
    agent = ox.NamedNode(agent_iri(who))

    def t(s: ox.NamedNode, p: str, o: ox.NamedNode | ox.Literal) -> ox.Triple:
        return ox.Triple(s, ox.NamedNode(p), o)

    label = f"client {who.client_id}"
    triples = [
        t(agent, RDF + "type", ox.NamedNode(PROV + "SoftwareAgent")),
        t(agent, DCT + "identifier", ox.Literal(who.client_id)),
    ]
    if who.consumer:
        consumer = ox.NamedNode(BRREG + who.consumer)
        label += f" for organisation {who.consumer}"
        if who.supplier:
            supplier = ox.NamedNode(BRREG + who.supplier)
            label += f" (supplier {who.supplier})"
            triples += [
                t(agent, PROV + "actedOnBehalfOf", supplier),
                t(supplier, PROV + "actedOnBehalfOf", consumer),
            ]
        else:
            triples.append(t(agent, PROV + "actedOnBehalfOf", consumer))
    triples.append(t(agent, RDFS + "label", ox.Literal(label)))
    return triples
