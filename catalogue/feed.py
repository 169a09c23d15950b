"""The change feed: every product version and agreement transition, in time order, as a
Linked Data Event Stream (LDES, on TREE) that a channel follows to keep a copy current.

Members are the catalogue's own version records (``urn:eti:record:{id}:v{n}``, written by
every registration, update and withdrawal) and agreement transitions
(``{agreement}#transition-{n}``). They are ordered by (time, product id, kind, number) and
cut into pages at a change of second once a page holds ``feed_page_size`` members and
its last second lies ``feed_settle`` seconds in the past: the cut points depend only on
what was written before them, so a closed page keeps its members for ever and a follower
can resume from any page it saw. The order is kept in memory, loaded once and then
extended with the records written since the newest time seen (one filtered scan per write
generation), so a page is found without counting through the stream.

What a member carries is judged now, for the caller: the version's description, its
content when the caller may read the product's content, and an agreement member (only
for the agreement's parties) carries the agreement and its product's current state, so
that a follower that applies each product's last member holds what the caller may read.
"""

from __future__ import annotations

import bisect
import threading
import time as _time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pyoxigraph as ox

from . import agreements, clock, queries, registry
from .auth import Identity
from .namespaces import (
    ADMS,
    DCAT,
    DCT,
    PROV,
    RDF,
    RDFS,
    XSD,
    agreement_graph,
    content_graph,
    history_graph,
    is_valid_id,
)
from .store import OxigraphStore, Store

LDES = "https://w3id.org/ldes#"
TREE = "https://w3id.org/tree#"
AS = "https://www.w3.org/ns/activitystreams#"
HYDRA = "http://www.w3.org/ns/hydra/core#"
START = "start"  # the key of the first page
_EPOCH = "0001-01-01T00:00:00Z"
_RECORD = "urn:eti:record:"


@dataclass(frozen=True, order=True)
class Entry:
    """One member's place in the stream; the fields in sort order."""

    time: str  # xsd:dateTime text, UTC, whole seconds: sorts as text
    ident: str  # the product's id ("" for an agreement on an unregistered product)
    kind: int  # 0: a product version, 1: an agreement transition
    number: int  # the version, or the transition's number
    agreement: str = ""  # the agreement's id (kind 1)
    status: str = ""  # the record's status, or the state the transition reached
    iri: str = ""  # the transition's IRI (kind 1)


@dataclass
class Page:
    """The members of one page of the stream, and where the next page starts."""

    key: str
    entries: list[Entry]
    next_key: str | None  # None: this is the newest page, still open
    next_at: tuple[str, str] | None = None  # (time, product id) the next page starts at


def _iso(moment) -> str:  # type: ignore[no-untyped-def]
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _record_key(iri: str) -> tuple[str, int] | None:
    """(id, version) of a version record IRI ``urn:eti:record:{id}:v{n}``."""
    if not iri.startswith(_RECORD):
        return None
    ident, _, number = iri[len(_RECORD) :].rpartition(":v")
    if not number.isdigit() or not is_valid_id(ident):
        return None
    return ident, int(number)


class FeedIndex:
    """The stream's order and page boundaries for one store (shared by all callers)."""

    def __init__(self, store: Store, *, page_size: int = 500, settle: float = 30.0) -> None:
        self.store = store
        self.page_size = page_size
        self.settle = settle
        self._versions: list[Entry] = []
        self._keys: list[tuple[str, str]] = []  # the versions' (time, id), for bisect
        self._step_keys: list[tuple[str, str]] = []
        self._expiries: list[Entry] = []  # agreements in force, by the end of their period
        self.statuses: dict[tuple[str, int], str] = {}  # (id, version) → record status
        self.products: dict[str, str] = {}  # id → product IRI
        self._transitions: list[Entry] = []
        self._latest = _EPOCH
        self._generation: int | None = None
        self._checked = 0.0
        self._boundaries: list[tuple[str, str]] = [("", "")]  # where each page starts
        self._at: dict[str, int] = {START: 0}  # page key → its place in _boundaries
        self._ends = 0  # index into _versions where the newest page starts
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Take in what was written since the last look (at most once a second for a
        remote store, which other processes write too)."""
        with self._lock:
            if isinstance(self.store, OxigraphStore):
                if self._generation == self.store.generation:
                    self._add_expired()
                    self._close_pages()
                    return
            elif _time.monotonic() - self._checked < 1.0:
                self._add_expired()
                return
            self._generation = self.store.generation  # before the queries: see core
            self._checked = _time.monotonic()
            self._load_versions(self._latest)
            if self._count() != len(self.statuses):  # a record stamped before the newest
                self._load_versions(_EPOCH)  # (a clock set back): look at every record
            self._load_transitions()
            self._add_expired()
            self._close_pages()

    def _count(self) -> int:
        rows = list(self.store.query(queries.load("feed-count")))
        return int(rows[0]["n"].value) if rows else 0

    def _load_versions(self, since_time: str) -> None:
        since = ox.Literal(since_time, datatype=ox.NamedNode(XSD + "dateTime"))
        rows = self.store.query(queries.load("feed-versions"), bindings={"since": since})
        fresh = []
        for row in rows:
            key = _record_key(row["record"].value)
            if key is None or key in self.statuses:
                continue
            status = row["status"].value.rsplit("/", 1)[-1]
            self.statuses[key] = status
            self.products[key[0]] = row["product"].value
            fresh.append(Entry(row["time"].value, key[0], 0, key[1], status=status))
        if not fresh:
            return
        fresh.sort()
        if self._versions and fresh[0] < self._versions[-1]:
            self._versions = sorted([*self._versions, *fresh])
            self._keys = [(e.time, e.ident) for e in self._versions]
        else:
            self._versions += fresh
            self._keys += [(e.time, e.ident) for e in fresh]
        self._latest = max(self._latest, self._versions[-1].time)

    def _load_transitions(self) -> None:
        ids = {iri: ident for ident, iri in self.products.items()}
        out = []
        for row in self.store.query(queries.load("feed-transitions")):
            if row["step"] is None:  # recorded without transitions: once, when issued
                step = row["agreement"].value + "#transition-0"
                moment = row["issued"].value[:10] + "T00:00:00Z"
            else:
                step, moment = row["step"].value, row["time"].value
            number = step.rpartition("#transition-")[2]
            out.append(
                Entry(
                    moment,
                    ids.get(row["target"].value, ""),
                    1,
                    int(number) if number.isdigit() else 0,
                    agreement=row["g"].value.rsplit(":", 1)[-1],
                    status=row["status"].value.rsplit("#", 1)[-1],
                    iri=step,
                )
            )
        self._transitions = sorted(out)
        self._step_keys = [(e.time, e.ident) for e in self._transitions]
        # an agreement in force ends by date, without a write: it gets a member the
        # moment its last day is over (see _add_expired)
        self._expiries = sorted(
            Entry(
                f"{a.end + timedelta(days=1)}T00:00:00Z",
                ids.get(a.target, ""),
                1,
                0,
                agreement=a.ident,
                status="expired",
                iri=a.iri + "#expired",
            )
            for a in agreements.for_caller(self.store, Identity(role="admin"))
            if a.status == "active"
        )

    def _add_expired(self) -> None:
        """Put in the expiries whose moment has come, before any page is closed: a page
        closes only after its last second, so an expiry never lands in a closed page."""
        now = _iso(clock.now())
        while self._expiries and self._expiries[0].time <= now:
            entry = self._expiries.pop(0)
            at = bisect.bisect_right(self._transitions, entry)
            self._transitions.insert(at, entry)
            self._step_keys.insert(at, (entry.time, entry.ident))

    def _close_pages(self) -> None:
        """Cut the newest page once it holds ``page_size`` members, before the next
        member of another product or second, when that member's second is ``settle``
        seconds old (so nothing can still arrive before it)."""
        cutoff = _iso(clock.now() - timedelta(seconds=self.settle))
        while True:
            last = self._ends + self.page_size - 1
            if last + 1 >= len(self._versions):
                return
            after = bisect.bisect_right(self._keys, self._keys[last])
            if after >= len(self._versions):
                return
            second = self._keys[after][0]
            if second > self._keys[last][0]:
                # a change of second: the next page takes all of it (a write stamped in
                # that second may still come, with any product id)
                if second > cutoff:
                    return
                boundary = (second, "")
            else:
                # within a second: only once that second is over and settled
                if second >= cutoff:
                    return
                boundary = self._keys[after]
            self._at[page_key(boundary)] = len(self._boundaries)
            self._boundaries.append(boundary)
            self._ends = after

    def page(self, key: str, parties: set[str] | None) -> Page | None:
        """The page starting at ``key`` (``START``, or a boundary as ``page_key`` writes
        it), with the transitions of the agreements in ``parties`` (None: all); None if
        no page starts there."""
        self.refresh()
        with self._lock:
            at = self._at.get(key)
            if at is None:
                return None
            low = self._boundaries[at]
            high = self._boundaries[at + 1] if at + 1 < len(self._boundaries) else None

            def within(entries: list[Entry], keys: list[tuple[str, str]]) -> list[Entry]:
                first = bisect.bisect_left(keys, low)
                last = bisect.bisect_left(keys, high) if high else len(entries)
                return entries[first:last]

            versions = within(self._versions, self._keys)
            steps = [
                e
                for e in within(self._transitions, self._step_keys)
                if parties is None or e.agreement in parties
            ]
            return Page(key, sorted([*versions, *steps]), high and page_key(high), high)

    def size(self, parties: set[str] | None) -> int:
        """How many members the stream holds for a caller party to ``parties``."""
        self.refresh()
        with self._lock:
            steps = [e for e in self._transitions if parties is None or e.agreement in parties]
            return len(self._versions) + len(steps)


def page_key(boundary: tuple[str, str]) -> str:
    """A page's key in its URL: ``start``, the time it starts at, or time~product when
    the page starts within a second."""
    time, ident = boundary
    if not time:
        return START
    return f"{time}~{ident}" if ident else time


# -- what a caller sees of a page -------------------------------------------------------


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _q(s: ox.NamedNode | ox.BlankNode, p: str, o: ox.Term) -> ox.Quad:  # type: ignore[name-defined]
    return ox.Quad(s, _n(p), o, ox.DefaultGraph())


def _in(graph: str, triples: list[ox.Triple]) -> Iterator[ox.Quad]:
    name = _n(graph)
    return (ox.Quad(t.subject, t.predicate, t.object, name) for t in triples)


def member_iri(entry: Entry) -> str:
    """The member's IRI: the version record, or the agreement transition."""
    return entry.iri if entry.kind else registry.record_iri(entry.ident, entry.number)


def content_name(member: str) -> str:
    """The graph of a version member's content (its description is in the graph named
    by the member)."""
    return member + "#content"


class Reader:
    """One caller's reading of pages: who, what it may read, and the records seen."""

    def __init__(self, index: FeedIndex, who: Identity, readable: frozenset[str] | None) -> None:
        self.index = index
        self.store = index.store
        self.who = who
        self.readable = readable  # content graphs the caller reads (None: every one)
        self._records: dict[str, registry.Record | None] = {}

    def record(self, ident: str) -> registry.Record | None:
        if ident not in self._records:
            self._records[ident] = registry.get_record(self.store, ident)
        return self._records[ident]

    def _read(self, graph: str) -> list[ox.Triple]:
        """A graph's triples: from the embedded store's index directly (a page reads
        a few graphs per member), else by a query."""
        if isinstance(self.store, OxigraphStore):
            quads = self.store.raw.quads_for_pattern(None, None, None, ox.NamedNode(graph))
            return [q.triple for q in quads]
        return self.store.triples(graph)

    def reads(self, ident: str) -> bool:
        return self.readable is None or content_graph(ident) in self.readable

    def version(self, ident: str, number: int, status: str, time: str, iri: str) -> list[ox.Quad]:
        """A product version: its record, its description and (if readable) content."""
        member = _n(registry.record_iri(ident, number))
        withdrawn = status.endswith("WITHDRAWN")
        previous = self.index.statuses.get((ident, number - 1)) if number > 1 else None
        kind = "Delete" if withdrawn else "Create" if previous in (None, "WITHDRAWN") else "Update"
        quads = [
            _q(member, RDF + "type", _n(DCAT + "CatalogRecord")),
            _q(member, DCT + "isVersionOf", _n(iri)),
            _q(member, PROV + "generatedAtTime", ox.Literal(time, datatype=_n(XSD + "dateTime"))),
            _q(member, DCT + "identifier", ox.Literal(ident)),
            _q(member, DCAT + "version", ox.Literal(str(number))),
            _q(member, ADMS + "status", _n(registry.STATUS + status)),
            _q(member, DCT + "type", _n(AS + kind)),
        ]
        if withdrawn:
            return quads
        # the version's own snapshots, never the live graphs: a member reads the same
        # before and after later versions (the content is what the version added to its
        # description; a triple in both is read through the description)
        description = self._read(registry.description_snapshot(ident, number))
        readable = self.reads(ident)
        whole = self._read(history_graph(ident, number)) if readable or not description else []
        description = description or registry.description_part(whole)
        quads += _in(member.value, description)
        if readable:
            own = set(description)
            quads += _in(content_name(member.value), [t for t in whole if t not in own])
        return quads

    def transition(self, entry: Entry) -> list[ox.Quad]:
        """An agreement transition: the agreement as it stands, and its product's current
        version (whose content the caller may now read, or no longer)."""
        member = _n(entry.iri)
        agreement = entry.iri.split("#", 1)[0]
        quads = [
            _q(member, RDF + "type", _n(PROV + "Activity")),
            _q(member, DCT + "isVersionOf", _n(agreement)),
            _q(
                member,
                PROV + "generatedAtTime",
                ox.Literal(entry.time, datatype=_n(XSD + "dateTime")),
            ),
            _q(member, DCT + "identifier", ox.Literal(entry.agreement)),
            _q(member, DCT + "type", _n("https://w3id.org/eti#" + entry.status)),
        ]
        quads += _in(entry.iri, self._read(agreement_graph(entry.agreement)))
        record = self.record(entry.ident) if entry.ident else None
        if record is not None:
            current = registry.record_iri(entry.ident, record.version)
            quads.append(_q(member, RDFS + "seeAlso", _n(current)))
            status = "WITHDRAWN" if record.withdrawn else "COMPLETED"
            quads += self.version(
                entry.ident, record.version, status, record.modified or entry.time, record.iri
            )
        return quads


def parties_of(store: Store, who: Identity) -> set[str] | None:
    """The agreements whose transitions ``who`` sees (None: all, for an admin)."""
    if who.role == "admin":
        return None
    return {a.ident for a in agreements.for_caller(store, who)}


def page_quads(
    page: Page, reader: Reader, stream: str, node_iri: Callable[[str], str]
) -> list[ox.Quad]:
    """The page as quads: the stream, the node and its relation in the default graph,
    each member's description, content and agreement in graphs named after it."""
    s, node = _n(stream), _n(node_iri(page.key))
    quads = stream_quads(stream, node_iri(START))
    quads.append(_q(node, RDF + "type", _n(TREE + "Node")))
    if page.next_key is not None:
        relation = ox.BlankNode("next")  # the same label on every read of the page
        quads += [
            _q(node, TREE + "relation", relation),
            _q(relation, RDF + "type", _n(TREE + "GreaterThanOrEqualToRelation")),
            _q(relation, TREE + "node", _n(node_iri(page.next_key))),
            _q(relation, TREE + "path", _n(PROV + "generatedAtTime")),
            _q(
                relation, TREE + "value", ox.Literal(page.next_at[0], datatype=_n(XSD + "dateTime"))
            ),
        ]
    for entry in page.entries:
        quads.append(_q(s, TREE + "member", _n(member_iri(entry))))
        if entry.kind:
            quads += reader.transition(entry)
        else:
            iri = reader.index.products.get(entry.ident, "")
            quads += reader.version(entry.ident, entry.number, entry.status, entry.time, iri)
    return list(dict.fromkeys(quads))  # a version can come with a transition too


def stream_quads(stream: str, root: str, size: int | None = None) -> list[ox.Quad]:
    """The event stream itself: its view, the paths of its members' time and object, and
    (``size``) how many members it holds now (Hydra's ``totalItems``)."""
    s = _n(stream)
    counted = ox.Literal(str(size), datatype=_n(XSD + "integer")) if size is not None else None
    return [
        *([_q(s, HYDRA + "totalItems", counted)] if counted is not None else []),
        _q(s, RDF + "type", _n(LDES + "EventStream")),
        _q(s, LDES + "timestampPath", _n(PROV + "generatedAtTime")),
        _q(s, LDES + "versionOfPath", _n(DCT + "isVersionOf")),
        _q(s, TREE + "view", _n(root)),
        _q(_n(root), RDF + "type", _n(TREE + "Node")),
    ]
