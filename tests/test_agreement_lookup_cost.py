"""Regression: a steward's or channel's first read after a write spent its time in the
agreement queries' purpose OPTIONAL, which the engine evaluated over every graph of the
store (every offer's permission, constraint and purpose, in the product graphs, "public",
"read" and the history) before joining it to the caller's few agreements: 6 of the 7 s of
a steward's first read at 10,000 products. The purposes are now looked up per agreement
graph (``agreement-purposes.rq``).

The cost is compared with itself, not with a clock: the fastest of three lookups after
the store gains many unrelated offers against the fastest before (as
``test_view_upkeep_cost`` does)."""

from __future__ import annotations

import time

import pyoxigraph as ox

from eti.catalogue import agreements
from eti.catalogue.auth import Identity
from eti.catalogue.core import Catalogue

ODRL = "http://www.w3.org/ns/odrl/2/"
DPV = "https://w3id.org/dpv#"
OFFERS = 20_000  # unrelated offers with a purpose constraint, as a big catalogue has
NAV = Identity("steward", org="889640782")


def _lookup(cat: Catalogue, who: Identity) -> tuple[float, list]:
    best, found = float("inf"), []
    for _ in range(3):
        started = time.perf_counter()
        found = agreements.for_caller(cat.store, who)
        best = min(best, time.perf_counter() - started)
    return best, found


def _many_offers(cat: Catalogue) -> None:
    lines = []
    for i in range(OFFERS):
        o, p, c = (f"<https://eti.example/cost/{k}/{i}>" for k in ("offer", "perm", "c"))
        lines.append(
            f"{o} a <{ODRL}Offer> ; <{ODRL}permission> {p} . {p} <{ODRL}constraint> {c} . "
            f"{c} <{ODRL}leftOperand> <{ODRL}purpose> ; <{ODRL}rightOperand> <{DPV}Marketing> ."
        )
    for start in range(0, OFFERS, 2000):  # in graphs of their own, as product graphs are
        body = "\n".join(lines[start : start + 2000])
        cat.store.update(f"INSERT DATA {{ GRAPH <urn:x:offers:{start}> {{ {body} }} }}")


def test_a_callers_agreements_were_looked_up_through_every_offer_of_the_store(
    catalogue: Catalogue,
) -> None:
    channel = Identity("channel", channel="https://eti.example/channels/helsenorge")
    before = {who: _lookup(catalogue, who) for who in (NAV, channel)}
    _many_offers(catalogue)
    for who, (small, found) in before.items():
        large, again = _lookup(catalogue, who)
        assert again == found and found, who  # the same agreements, purposes included
        assert large < max(10 * small, 0.25), (who, small, large)  # old queries: 1 s


def test_an_agreement_is_listed_once_per_purpose_it_names(catalogue: Catalogue) -> None:
    mine = agreements.for_caller(catalogue.store, Identity("admin"))
    assert mine
    graph, iri = f"urn:eti:graph:agreement:{mine[0].ident}", mine[0].iri
    extra = ox.NamedNode(DPV + "CommunicationManagement")
    catalogue.store.update(
        f"INSERT DATA {{ GRAPH <{graph}> {{ <{iri}> <{ODRL}permission> [ <{ODRL}constraint> "
        f"[ <{ODRL}leftOperand> <{ODRL}purpose> ; <{ODRL}rightOperand> {extra} ] ] }} }}"
    )
    again = agreements.for_caller(catalogue.store, Identity("admin"))
    purposes = [a.purpose for a in again if a.ident == mine[0].ident]
    assert extra.value in purposes and len(purposes) == len(set(purposes)) >= 2
    assert [a.purpose for a in again if a.ident != mine[0].ident] == [
        a.purpose for a in mine if a.ident != mine[0].ident
    ]
