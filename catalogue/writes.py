"""Every write door ends here: validate what changes, then apply it in one transaction.

The API, the CLI, the Graph Store Protocol and SPARQL Update all hand this module
whole-graph changes (graph → new triples, or None to drop it). The graphs that
carry shared rules (a product's description and content, an agreement, the agents)
are validated with the small context they need; a Violation refuses the whole
write with the report; nothing is written half.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox
import rdflib

from . import ownership, queries, rdfio, sparqlguard, sparqltext
from .graphs import added, replace_graphs
from .namespaces import (
    AGENTS,
    OPEN,
    OPENED,
    OWNERS,
    PUBLIC,
    READ,
    RECORDS,
    STAGED,
    SYSTEM,
    VIEW_PREFIX,
    VIEWS,
    VOCABULARIES,
    agreement_graph,
    content_graph,
    product_graph,
)
from .store import Store

DEFAULT = ""  # the store's default graph, in change maps
MAINTAINED = (PUBLIC, OPEN, OPENED, READ, RECORDS, STAGED, SYSTEM, OWNERS, VIEWS)
DERIVED = (PUBLIC, OPEN, OPENED, READ, STAGED, VIEWS)  # recomputed from other graphs in every write
MAINTAINED_PREFIXES = ("urn:eti:graph:history:", "urn:eti:graph:harvest", VIEW_PREFIX)
SCRATCH_LIMIT = 2_000_000  # quads an update over every graph may copy
_VALUES_CHUNK = 500  # IRIs per VALUES block (each serialised by pyoxigraph, never pasted)
WRITE_LOCK = threading.RLock()  # one write at a time: a read-modify-write never interleaves


def serialised(function: Callable) -> Callable:
    """Run ``function`` holding the write lock (for read-modify-write cycles)."""

    @functools.wraps(function)
    def locked(*args, **kwargs):  # type: ignore[no-untyped-def]
        with WRITE_LOCK:
            return function(*args, **kwargs)

    return locked


# (store, changes) -> (version graphs to write with them, record operations)
Provenance = Callable[[Store, Mapping[str, Sequence | None]], tuple[dict, list[str]]]


class WriteError(Exception):
    """A write refused; ``status`` is the HTTP status that says why."""

    status = 400
    error = "Bad Request"

    def __init__(self, detail: str, report: object | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.report = report


class BadInput(WriteError):
    status, error = 400, "Bad Request"


class Forbidden(WriteError):
    status, error = 403, "Forbidden"


class NotFound(WriteError):
    status, error = 404, "Not Found"


class Conflict(WriteError):
    status, error = 409, "Conflict"


class RuleBroken(WriteError):
    """A shared rule (a SHACL Violation) is broken; ``report`` says which."""

    status, error = 422, "Unprocessable Content"


@dataclass
class Outcome:
    """What a committed write changed, and the warnings it was accepted with."""

    graphs: list[str]
    reports: list = field(default_factory=list)


def is_maintained(graph: str) -> bool:
    """Graphs only the catalogue itself writes (derived views, records, secrets, history)."""
    return graph in MAINTAINED or graph.startswith(MAINTAINED_PREFIXES)


def _kind(graph: str) -> tuple[str, str | None]:
    for kind in ("product", "content", "agreement"):
        prefix = f"urn:eti:graph:{kind}:"
        if graph.startswith(prefix):
            return kind, graph[len(prefix) :]
    if graph == AGENTS:
        return "agents", None
    if graph == VOCABULARIES:
        return "vocabularies", None
    return "other", None


def _graph(triples: Iterable[ox.Triple | ox.Quad]) -> rdflib.Graph:
    from .validation import quiet_ill_typed_literals

    with quiet_ill_typed_literals():  # an ill-typed literal is a finding, not a traceback
        return rdfio.to_rdflib_graph(triples, bare=True)  # validate copies it


def _current(store: Store, graph: str, changes: Mapping[str, Sequence | None]) -> list:
    if graph in changes:
        return list(changes[graph] or [])
    return store.triples(graph)


def agents_named(store: Store, triples: Sequence[ox.Triple], changes: Mapping) -> list[ox.Triple]:
    """What the agents graph says about the IRIs ``triples`` refer to (their owners,
    publishers, competent authorities, channels and places), not the whole graph."""
    if AGENTS in changes:
        return list(changes[AGENTS] or [])
    named = {t.object for t in triples if isinstance(t.object, ox.NamedNode)}
    named -= {t.subject for t in triples}
    iris = sorted(named, key=str)
    out: list[ox.Triple] = []
    for start in range(0, len(iris), _VALUES_CHUNK):  # one query, not one per IRI
        chunk = " ".join(str(iri) for iri in iris[start : start + _VALUES_CHUNK])
        text = queries.load("agents-described").replace(
            "VALUES ?agent { }", f"VALUES ?agent {{ {chunk} }}"
        )
        out += list(store.query(text))
    return out


def context_for_product(
    store: Store, description: Sequence[ox.Triple], content: Sequence[ox.Triple], changes: Mapping
) -> list[ox.Triple]:
    """The small context a product is validated with: the agents it names, and the other
    products that claim to be the authoritative source of the same information items.
    It does not grow with the catalogue."""
    context = agents_named(store, [*description, *content], changes)
    services = {
        t.object
        for t in description
        if t.predicate.value == "https://w3id.org/eti#isAuthoritativeSourceFor"
    }
    services |= {
        t.subject
        for t in content
        if t.predicate.value == "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
        and t.object.value == "http://purl.org/vocab/cpsv#PublicService"
    }
    for service in services:
        if isinstance(service, ox.NamedNode):
            context += list(
                store.query(queries.load("claims-of-service"), bindings={"service": service})
            )
    return context


def context_for_agreement(
    store: Store, triples: Sequence[ox.Triple], changes: Mapping
) -> list[ox.Triple]:
    """The context of an agreement: the agents it names, its target product's description
    (with the offer) and the other agreements on that product."""
    context = agents_named(store, triples, changes)
    targets = {
        t.object for t in triples if t.predicate.value == "http://www.w3.org/ns/odrl/2/target"
    }
    for target in targets:
        if isinstance(target, ox.NamedNode):
            context += list(
                store.query(queries.load("product-description"), bindings={"product": target})
            )
            for row in store.query(
                queries.load("agreements-on-target"), bindings={"target": target}
            ):
                if row["g"].value not in changes:  # the agreement's new self is the data
                    context.append(ox.Triple(row["s"], row["p"], row["o"]))
    return context


def validate_changes(
    store: Store,
    changes: Mapping[str, Sequence | None],
    *,
    as_of: dt.date | None = None,
    profiles: Sequence[str] | None = None,
) -> list:
    """Validate every unit of rules a change touches; returns their reports."""
    from .validation import validate  # pySHACL loads only when a write needs it

    products: set[str] = set()
    agreements: set[str] = set()
    agents = False
    for graph in changes:
        kind, ident = _kind(graph)
        if kind in ("product", "content") and ident:
            products.add(ident)
        elif kind == "agreement" and ident:
            agreements.add(ident)
        elif kind == "agents":
            agents = True
    reports = []
    for ident in sorted(products):
        description = _current(store, product_graph(ident), changes)
        content = _current(store, content_graph(ident), changes)
        if not description:
            if content:
                raise BadInput(f"content without a product description ({ident})")
            continue  # a withdrawal: nothing left to check
        data = _graph([*description, *content])
        context = _graph(context_for_product(store, description, content, changes))
        reports.append(validate(data, profiles, as_of=as_of, context=context))
    for ident in sorted(agreements):
        triples = _current(store, agreement_graph(ident), changes)
        if triples:
            context = _graph(context_for_agreement(store, triples, changes))
            reports.append(
                validate(_graph(triples), ["agreements", "eti"], as_of=as_of, context=context)
            )
    if agents and changes.get(AGENTS):
        reports.append(validate(_graph(changes[AGENTS] or []), ["dcat-ap-no"], as_of=as_of))
    return reports


@serialised
def commit(
    store: Store,
    changes: Mapping[str, Sequence | None],
    *,
    as_of: dt.date | None = None,
    also: Sequence[str] = (),
    check: bool = True,
    history: bool = False,
    profiles: Sequence[str] | None = None,
    provenance: Provenance | None = None,
) -> Outcome:
    """Validate ``changes`` and apply them in one transaction, or raise RuleBroken.

    ``history`` lets the registry write version snapshots; no other door may.
    ``provenance``: for the doors that write graphs raw (Graph Store, SPARQL Update), what
    the registry adds so that the products they change get a record and a version, as
    a registration leaves (given by the caller: the registry is not imported here)."""
    for graph in changes:
        if history and graph.startswith(MAINTAINED_PREFIXES[:2]):
            continue
        if is_maintained(graph):
            raise Forbidden(f"the graph <{graph}> is maintained by the catalogue itself")
    if provenance is not None:
        versions, recorded = provenance(store, changes)
        changes = {**changes, **versions}
        also = [*also, *recorded]
    try:  # who may state what comes before what the rules say of it
        claims = ownership.check_changes(store, changes)
    except ownership.OwnershipError as exc:
        raise (Forbidden if exc.forbidden else BadInput)(exc.detail) from None
    reports = validate_changes(store, changes, as_of=as_of, profiles=profiles) if check else []
    broken = [r for r in reports if not r.conforms]
    if broken:
        raise RuleBroken("the write breaks a shared rule; nothing was written", broken[0])
    named = {g: v for g, v in changes.items() if g != DEFAULT}
    extra = list(also)
    extra += added(OWNERS, claims)  # the admin's view reads the owners graph too
    if DEFAULT in changes:
        extra.append("DROP SILENT DEFAULT")
        if changes[DEFAULT]:
            body = "\n".join(
                f"{t.subject} {t.predicate} {t.object} ." for t in changes[DEFAULT] or []
            )
            extra.append("INSERT DATA {\n" + body + "\n}")
    replace_graphs(store, named, also=extra)
    return Outcome(sorted(changes), reports)


# --- SPARQL Update through a scratch copy ----------------------------------------------------


def _with_using(text: str, using: Sequence[str], using_named: Sequence[str]) -> str:
    """``text`` with USING / USING NAMED clauses before each top-level WHERE of a modify
    operation (the protocol's using-graph-uri / using-named-graph-uri)."""
    if not using and not using_named:
        return text
    clause = " ".join(
        [
            *(f"USING {ox.NamedNode(g)}" for g in using),
            *(f"USING NAMED {ox.NamedNode(g)}" for g in using_named),
        ]
    )
    out, depth, last = [], 0, 0
    previous = ""
    for match in sparqltext._TOKEN.finditer(text):
        kind, value = match.lastgroup, match.group()
        if kind == "other" and value == "{":
            depth += 1
        elif kind == "other" and value == "}":
            depth -= 1
        elif (
            kind == "word"
            and value.upper() == "WHERE"
            and depth == 0
            and previous.upper() != "DELETE"
        ):
            out.append(text[last : match.start()] + clause + " ")
            last = match.start()
        if kind not in ("ws", "comment"):
            previous = value
    out.append(text[last:])
    return "".join(out)


@serialised
def update(
    store: Store,
    text: str,
    *,
    using: Sequence[str] = (),
    using_named: Sequence[str] = (),
    base_iri: str | None = None,
    as_of: dt.date | None = None,
    provenance: Provenance | None = None,
) -> Outcome:
    """Run a SPARQL Update as the admin: on a scratch copy of the graphs it names, then
    validate and commit the graphs it changed. The system graph is never visible."""
    try:  # SERVICE, LOAD, graphs and depth as the engine reads them (escapes resolved)
        info = sparqlguard.examine(text, base_iri)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    if info.load:
        raise BadInput("LOAD is not allowed: the catalogue fetches nothing on an update's behalf")
    if (using or using_named) and any(w in text.upper() for w in ("USING", "WITH")):
        tokens = {v.upper() for k, v in sparqltext._tokens(text) if k == "word"}
        if tokens & {"USING", "WITH"}:
            raise BadInput(
                "using-graph-uri/using-named-graph-uri cannot be combined with "
                "USING or WITH in the update (SPARQL 1.1 Protocol §2.2.3)"
            )
    for iri in info.services:
        raise BadInput(f"SERVICE <{iri}> is not allowed in an update")
    if info.variable_graph or info.all_graphs:
        # the derived views follow their sources within the write: an update over every
        # graph (DROP ALL, GRAPH ?g) reaches the sources, never the copies
        graphs = [
            g
            for g in store.named_graphs()
            if g != SYSTEM and g not in DERIVED and not g.startswith(VIEW_PREFIX)
        ]
        if store.count() > SCRATCH_LIMIT:
            raise BadInput(
                "this update ranges over every graph (GRAPH ?g, ALL, NAMED) and the "
                "store is too large for that: name the graphs"
            )
    else:  # a name still relative (no base) is no graph: the update fails to parse
        graphs = sorted({*info.graphs, *using, *using_named} - {SYSTEM} - _not_iris(info.graphs))
    while True:
        scratch = ox.Store()
        before: dict[str, set[str]] = {}
        for graph in [DEFAULT, *graphs]:
            triples = _default_triples(store) if graph == DEFAULT else store.triples(graph)
            target = ox.DefaultGraph() if graph == DEFAULT else ox.NamedNode(graph)
            scratch.extend(ox.Quad(t.subject, t.predicate, t.object, target) for t in triples)
            before[graph] = {str(t) for t in triples}
        try:
            scratch.update(_with_using(text, using, using_named), base_iri=base_iri)
        except SyntaxError as exc:
            raise BadInput(f"the update does not parse: {exc}") from None
        except (OSError, RuntimeError, ValueError) as exc:
            raise BadInput(f"the update failed: {exc}") from None
        # A graph the update reached that the lexer did not name (an escaped IRI, say)
        # was not copied in: copy it and run again, never replace it blind.
        unseen = {q.value for q in scratch.named_graphs()} - {*graphs, SYSTEM}
        unseen = {g for g in unseen if store.count(g)}
        if not unseen:
            break
        graphs = sorted({*graphs, *unseen})
    # the system graph is never copied in: anything the update put there is a change
    # (which commit refuses), never silently dropped
    after_graphs = {q.value for q in scratch.named_graphs()}
    changes: dict[str, list[ox.Triple] | None] = {}
    for graph in sorted({DEFAULT, *graphs, *after_graphs}):
        target = ox.DefaultGraph() if graph == DEFAULT else ox.NamedNode(graph)
        now = [
            ox.Triple(q.subject, q.predicate, q.object)
            for q in scratch.quads_for_pattern(None, None, None, target)
        ]
        if {str(t) for t in now} != before.get(graph, set()):
            changes[graph] = now or None
    return commit(store, changes, as_of=as_of, provenance=provenance)


def _not_iris(names: Iterable[str]) -> set[str]:
    out = set()
    for name in names:
        try:
            ox.NamedNode(name)
        except ValueError:
            out.add(name)
    return out


def _default_triples(store: Store) -> list[ox.Triple]:
    rows = store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", default_graph=[DEFAULT])
    return list(rows)


# --- the Graph Store's writes: a graph replaced, merged into, created or dropped ------------


def graph_exists(store: Store, target: str) -> bool:
    """True when the graph holds a triple (``DEFAULT``: the store's default graph)."""
    if target == DEFAULT:  # named: on Virtuoso a query without a dataset reads every graph
        found = store.query(queries.load("graph-content"), default_graph=[DEFAULT])
        return next(iter(found), None) is not None
    return bool(store.query(queries.load("graph-exists"), bindings={"g": ox.NamedNode(target)}))


def graph_triples(store: Store, target: str) -> list[ox.Triple]:
    """The triples of one graph (``DEFAULT``: the store's default graph)."""
    if target == DEFAULT:
        return list(store.query(queries.load("graph-content"), default_graph=[DEFAULT]))
    return store.triples(target)


@serialised
def put_graph(
    store: Store,
    target: str,
    triples: list[ox.Triple],
    *,
    merge: bool = False,
    provenance: Provenance | None = None,
) -> tuple[bool, Outcome]:
    """Replace the graph ``target`` with ``triples`` (``merge``: add them to it), under
    the write lock so that nothing comes between reading and writing it; whether the
    write created the graph, and its outcome."""
    existed = graph_exists(store, target)
    if merge and existed:
        triples = graph_triples(store, target) + triples
    outcome = commit(store, {target: triples or None}, provenance=provenance)
    return not existed and bool(triples), outcome


@serialised
def drop_graph(store: Store, target: str, *, provenance: Provenance | None = None) -> Outcome:
    """Drop the graph ``target``: NotFound when it holds nothing."""
    if not graph_exists(store, target):
        raise NotFound("no such graph")
    return commit(store, {target: None}, provenance=provenance)
