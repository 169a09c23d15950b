"""Harvesting producers' own DCAT-AP-NO catalogues.

A source is a URL and the organisation it speaks for. A run fetches it (content
negotiation: Turtle, RDF/XML, JSON-LD), compares every dataset's description with
the previous run's (graph isomorphism, so blank nodes are compared by structure),
registers what is new or changed and conforms to DCAT-AP-NO (and tries again what a
run refused), withdraws what disappeared, and records a report: start, end, counts and
every refusal's reason.
A source that fails changes nothing but its report.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

import pyoxigraph as ox

from . import clock, queries, rdfio, registry
from .auth import Identity
from .fetch import FetchError, fetch
from .graphs import added, combine, insert_data, replace_graphs
from .namespaces import DCAT, DCT, DPROD, FOAF, RDF, SYSTEM, XSD
from .store import Store
from .writes import WriteError

HARVESTS = "urn:eti:graph:harvests"
SYS = "urn:eti:sys:"
PENDING = SYS + "pending"  # in a snapshot: this dataset was refused, try it again
TRUE = ox.Literal("true", datatype=ox.NamedNode(XSD + "boolean"))
PROFILES = ("dcat-ap-no",)
_STOP = {
    DCAT + "Dataset",
    DCAT + "Catalog",
    FOAF + "Agent",
    FOAF + "Organization",
    DPROD + "DataProduct",
}


def snapshot_graph(source_id: str) -> str:
    """Where the last fetched catalogue of a source is kept."""
    return f"urn:eti:graph:harvested:{source_id}"


def source_id(url: str) -> str:
    """A stable id for a source URL."""
    return hashlib.sha256(url.encode()).hexdigest()[:12]


@dataclass
class Source:
    """A producer's catalogue to harvest."""

    id: str
    url: str
    org: str


@dataclass
class HarvestReport:
    """What one run saw and did."""

    id: str
    source: str
    url: str
    started: str
    ended: str = ""
    ok: bool = True
    error: str | None = None
    datasets: int = 0
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    registered: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Number of datasets per outcome."""
        return {
            k: len(getattr(self, k))
            for k in (
                "new",
                "changed",
                "unchanged",
                "removed",
                "registered",
                "withdrawn",
                "refused",
            )
        }


def _now() -> str:
    return clock.now().isoformat(timespec="microseconds").replace("+00:00", "Z")


def add_source(store: Store, url: str, org: str) -> Source:
    """Register a source (idempotent for the same URL)."""
    if not (len(org) == 9 and org.isdigit()):
        raise ValueError("--org takes a 9-digit organisation number")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # refused at once: a file: or ftp: source could never be harvested (the address
        # of an http(s) host is checked at each run, where it is resolved)
        raise ValueError(f"a harvest source is an http(s) URL with a host, not {url!r}")
    node = ox.NamedNode(f"urn:eti:harvest-source:{source_id(url)}")
    ox.NamedNode(url)  # raises ValueError for a malformed IRI
    store.update(queries.load("harvest-source-remove"), bindings={"source": node})
    store.update(
        insert_data(
            {
                SYSTEM: [
                    ox.Triple(node, ox.NamedNode(SYS + "url"), ox.NamedNode(url)),
                    ox.Triple(node, ox.NamedNode(SYS + "org"), ox.Literal(org)),
                    ox.Triple(
                        node,
                        ox.NamedNode(SYS + "added"),
                        ox.Literal(_now(), datatype=ox.NamedNode(XSD + "dateTime")),
                    ),
                ]
            }
        )
    )
    return Source(source_id(url), url, org)


def sources(store: Store) -> list[Source]:
    """Every registered source."""
    return [
        Source(source_id(row["url"].value), row["url"].value, row["org"].value)
        for row in store.query(queries.load("harvest-sources"))
    ]


def _datasets(triples: list[ox.Triple]) -> dict[str, list[ox.Triple]]:
    """Each dataset IRI → its description: its triples and those of what it reaches
    (blank nodes, distributions, services, contact points), stopping at other datasets,
    catalogues and agents."""
    by_subject: dict[object, list[ox.Triple]] = {}
    types: dict[object, set[str]] = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)
        if t.predicate.value == RDF + "type":
            types.setdefault(t.subject, set()).add(t.object.value)
    out = {}
    for node, kinds in types.items():
        if DCAT + "Dataset" not in kinds or not isinstance(node, ox.NamedNode):
            continue
        seen, todo, desc = set(), [node], []
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            for t in by_subject.get(current, []):
                desc.append(t)
                nxt = t.object
                if nxt in by_subject and (nxt == node or not types.get(nxt, set()) & _STOP):
                    todo.append(nxt)
        out[node.value] = desc
    return out


def _canonical(triples: list[ox.Triple]) -> frozenset[str]:
    ds = ox.Dataset([ox.Quad(t.subject, t.predicate, t.object) for t in triples])
    ds.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return frozenset(str(q) for q in ds)


def _publisher_triples(
    store: Store, desc: list[ox.Triple], dataset: str, everything: list[ox.Triple]
) -> list[ox.Triple]:
    """The dataset's publisher description from the harvested document (its orgnr), for a
    publisher the agents graph does not know: for one it knows, the agents graph alone
    says who it is (a document cannot give it another organisation number)."""
    node = ox.NamedNode(dataset)
    publishers = {
        t.object
        for t in desc
        if t.subject == node
        and t.predicate.value == DCT + "publisher"
        and not (isinstance(t.object, ox.NamedNode) and registry.registered_agent(store, t.object))
    }
    return [t for t in everything if t.subject in publishers]


def _without_known_agents(store: Store, triples: list[ox.Triple]) -> list[ox.Triple]:
    """``triples`` less what they say about organisations and channels in the agents
    graph (the catalogue's word on them, not the harvested document's)."""
    subjects = {t.subject for t in triples if isinstance(t.subject, ox.NamedNode)}
    known = {s for s in subjects if registry.registered_agent(store, s)}
    return [t for t in triples if t.subject not in known]


def as_product(
    desc: list[ox.Triple], dataset: str, org_triples: list[ox.Triple]
) -> list[ox.Triple]:
    """A harvested dataset registered as a data product owned by its publisher."""
    node = ox.NamedNode(dataset)
    extra = [ox.Triple(node, ox.NamedNode(RDF + "type"), ox.NamedNode(DPROD + "DataProduct"))]
    extra += [
        ox.Triple(node, ox.NamedNode(DPROD + "dataProductOwner"), t.object)
        for t in desc
        if t.subject == node and t.predicate.value == DCT + "publisher"
    ]
    return [*desc, *extra, *org_triples]


def run(
    store: Store,
    source: Source,
    *,
    allow_private: bool = False,
    progress: Callable[[int, int], None] | None = None,
    timeout: float = 30.0,
) -> HarvestReport:
    """Harvest one source; the report is stored and returned."""
    report = HarvestReport(uuid.uuid4().hex[:12], source.id, source.url, _now())
    try:
        fetched = fetch(source.url, allow_private=allow_private, timeout=timeout)
        fmt = rdfio.format_for(media_type=fetched.media_type, filename=fetched.url)
        triples = [
            ox.Triple(q.subject, q.predicate, q.object)
            for q in rdfio.parse_quads(
                fetched.content, fmt, source=fetched.url, base_iri=fetched.url
            )
        ]
    except (FetchError, rdfio.RdfInputError) as exc:
        report.ok, report.error, report.ended = False, str(exc), _now()
        _store_report(store, report)
        return report
    kept = store.triples(snapshot_graph(source.id))
    retry = {t.subject.value for t in kept if t.predicate.value == PENDING}
    previous = _datasets([t for t in kept if t.predicate.value != PENDING])
    current = _datasets(triples)
    report.datasets = len(current)
    who = Identity(
        role="steward",
        org=source.org,
        name=f"harvest {source.url}",
        token_id=f"harvest-{source.id}",
    )
    pending: list[str] = []
    for n, (iri, desc) in enumerate(sorted(current.items()), 1):
        if iri not in previous:
            seen = report.new
        elif _canonical(previous[iri]) != _canonical(desc):
            seen = report.changed
        else:
            seen = report.unchanged
        seen.append(iri)
        # unchanged and not refused last time: registered as it is, nothing to do
        todo = seen is not report.unchanged or iri in retry
        if todo and not _register(store, report, who, iri, desc, triples):
            pending.append(iri)
        if progress:
            progress(n, len(current))
    for iri in sorted(set(previous) - set(current)):
        report.removed.append(iri)
        ident = registry.id_of_iri(store, ox.NamedNode(iri))
        if ident:
            try:
                registry.withdraw(store, ident, who=who)
                report.withdrawn.append(iri)
            except WriteError as exc:
                report.refused.append(
                    {"dataset": iri, "status": str(exc.status), "reason": _reason(exc)}
                )
    # a dataset refused this run stays pending: the next run tries it again even when
    # the document has not changed (the cause may have been fixed in the catalogue)
    marks = [ox.Triple(ox.NamedNode(iri), ox.NamedNode(PENDING), TRUE) for iri in pending]
    replace_graphs(store, {snapshot_graph(source.id): [*triples, *marks]})
    report.ended = _now()
    _store_report(store, report)
    return report


def _register(
    store: Store,
    report: HarvestReport,
    who: Identity,
    iri: str,
    desc: list[ox.Triple],
    everything: list[ox.Triple],
) -> bool:
    """Register one harvested dataset as a product; a refusal goes into the report."""
    desc = _without_known_agents(store, desc)
    quads = as_product(desc, iri, _publisher_triples(store, desc, iri, everything))
    ident = registry.id_of_iri(store, ox.NamedNode(iri))
    record = registry.get_record(store, ident) if ident else None
    try:
        registry.register(
            store,
            quads,
            who=who,
            ident=ident,
            create=record is None or record.withdrawn,
            profiles=PROFILES,
        )
    except WriteError as exc:
        report.refused.append({"dataset": iri, "status": str(exc.status), "reason": _reason(exc)})
        return False
    report.registered.append(iri)
    return True


def _reason(exc: WriteError) -> str:
    if exc.report is not None:
        violations = [r for r in exc.report.results if r.severity == "Violation"]
        parts = [
            f"{r.message('en')} ({r.path if r.path is not None else r.focus})"
            for r in violations[:5]
        ]
        more = f" and {len(violations) - 5} more" if len(violations) > 5 else ""
        return f"{exc.detail}: " + "; ".join(parts) + more
    return exc.detail


def _store_report(store: Store, report: HarvestReport) -> None:
    node = ox.NamedNode(f"urn:eti:harvest:{report.id}")
    triples = [
        ox.Triple(node, ox.NamedNode(SYS + "source"), ox.NamedNode(report.url)),
        ox.Triple(
            node,
            ox.NamedNode(SYS + "started"),
            ox.Literal(report.started, datatype=ox.NamedNode(XSD + "dateTime")),
        ),
        ox.Triple(node, ox.NamedNode(SYS + "report"), ox.Literal(json.dumps(asdict(report)))),
    ]
    # the admin's view reads the reports graph too: kept true in the same update
    store.update(combine(added(HARVESTS, triples)))


def reports(store: Store, limit: int = 50) -> list[dict]:
    """The latest harvest reports, newest first."""
    rows = store.query(queries.load("harvest-reports"))
    out = [json.loads(row["report"].value) for row in rows]
    return out[:limit]
