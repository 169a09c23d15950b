"""Keep a local copy of what a caller may read: follow the catalogue's change feed
(``/feed``, an LDES event stream) into an embedded Oxigraph store.

from eti.client import follow
for applied in follow("http://127.0.0.1:8080", "var/mirror", token=TOKEN, once=True):
    print(applied, "members applied")

The copy holds the catalogue's own graph names: ``urn:eti:graph:product:{id}`` (a
product's description), ``urn:eti:graph:content:{id}`` (its content, while the caller
may read it) and ``urn:eti:graph:agreement:{id}`` (the caller's agreements). The page to
read next and the newest page's ETag are kept in the copy too
(``urn:eti:graph:mirror``), after each page is applied: a follower stopped at any point
(even killed) reads that page again and carries on. Applying a page twice leaves the
same copy, since each member replaces its product's (or agreement's) graphs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import requests

from eti.catalogue.namespaces import agreement_graph, content_graph, product_graph

TREE = "https://w3id.org/tree#"
HYDRA = "http://www.w3.org/ns/hydra/core#"
AS = "https://www.w3.org/ns/activitystreams#"
DCT = "http://purl.org/dc/terms/"
DCAT = "http://www.w3.org/ns/dcat#"
PROV = "http://www.w3.org/ns/prov#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
POSITION_GRAPH = "urn:eti:graph:mirror"
_POSITION = ox.NamedNode("urn:eti:mirror")
_NEXT = ox.NamedNode(TREE + "node")
_ETAG = ox.NamedNode("http://www.w3.org/2011/http#etag")  # RDF vocabulary for HTTP
_SOURCE = ox.NamedNode(DCT + "source")
MEDIA = "application/n-quads"


class MirrorError(RuntimeError):
    """The catalogue refused the feed, or its answer was not a feed."""


@dataclass
class Position:
    """Where a follower is: the page to read next, and its ETag when it is the newest."""

    page: str
    etag: str | None = None


class Mirror:
    """A local store kept equal to what one caller may read of a catalogue."""

    def __init__(
        self,
        url: str,
        store: str | Path | ox.Store,
        *,
        token: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.store = store if isinstance(store, ox.Store) else ox.Store(str(store))
        self.session = requests.Session()
        self.session.headers["Accept"] = MEDIA
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        self.timeout = timeout

    # -- position ----------------------------------------------------------------------

    def position(self) -> Position | None:
        """Where the last sync stopped (None before the first)."""
        graph = ox.NamedNode(POSITION_GRAPH)
        found = {
            q.predicate.value: q.object.value
            for q in self.store.quads_for_pattern(_POSITION, None, None, graph)
        }
        if _NEXT.value not in found:
            return None
        return Position(found[_NEXT.value], found.get(_ETAG.value))

    def _keep(self, position: Position) -> None:
        graph = ox.NamedNode(POSITION_GRAPH)
        self.store.clear_graph(graph)
        quads = [
            ox.Quad(_POSITION, _SOURCE, ox.NamedNode(self.url + "/feed"), graph),
            ox.Quad(_POSITION, _NEXT, ox.NamedNode(position.page), graph),
        ]
        if position.etag:
            quads.append(ox.Quad(_POSITION, _ETAG, ox.Literal(position.etag), graph))
        self.store.extend(quads)
        self.store.flush()

    # -- reading the feed --------------------------------------------------------------

    def _get(self, url: str, etag: str | None = None) -> requests.Response:
        headers = {"If-None-Match": etag} if etag else {}
        try:
            answer = self.session.get(url, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise MirrorError(f"cannot read {url}: {exc}") from None
        if answer.status_code not in (200, 304):
            raise MirrorError(f"{url} answered {answer.status_code}: {answer.text[:300]}")
        return answer

    def _root(self) -> tuple[str, int | None]:
        """The first page (the stream's ``tree:view``) and how many members there are."""
        answer = self._get(self.url + "/feed")
        quads = list(ox.parse(answer.content, format=ox.RdfFormat.N_QUADS))
        views = [q.object.value for q in quads if q.predicate.value == TREE + "view"]
        if not views:
            raise MirrorError(f"{self.url}/feed is not an event stream (no tree:view)")
        sizes = [q.object.value for q in quads if q.predicate.value == HYDRA + "totalItems"]
        return views[0], int(sizes[0]) if sizes else None

    def sync(self, progress: Callable[[int, int | None], None] | None = None) -> int:
        """Read the feed from where the last sync stopped to its newest page and apply
        every member; returns how many were applied (0: nothing new). ``progress`` is
        called after each page with (members it applied, members in the stream when the
        first sync started, if known)."""
        where, total = self.position(), None
        if where is None:
            first, total = self._root()
            where = Position(first)
        applied = 0
        while True:
            answer = self._get(where.page, where.etag)
            if answer.status_code == 304:
                return applied
            quads = ox.parse(answer.content, format=ox.RdfFormat.N_QUADS)
            page = _Page(quads)
            applied += self._apply(page)
            if progress is not None:
                progress(len(page.members), total)
            if page.next is None:
                self._keep(Position(where.page, answer.headers.get("ETag")))
                return applied
            where = Position(page.next)
            self._keep(where)

    def _apply(self, page: _Page) -> int:
        """Apply a page's members in stream order: each replaces its graphs, so the last
        member of a product (or agreement) decides; written as one batch."""
        self._final: dict[str, list[ox.Triple]] = {}
        for member in page.ordered():
            if page.kind(member) == PROV + "Activity":
                ident = page.value(member, DCT + "identifier")
                if ident:
                    self._replace(agreement_graph(ident), page.graph(member))
                current = page.value(member, RDFS + "seeAlso")
                if current:
                    self._version(page, ox.NamedNode(current))
            else:
                self._version(page, member)
        for graph in self._final:
            self.store.remove_graph(ox.NamedNode(graph))
        # the bulk loader: not one transaction, but a page applied twice gives the same copy
        self.store.bulk_extend(
            ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(graph))
            for graph, triples in self._final.items()
            for t in triples
        )
        return len(page.members)

    def _version(self, page: _Page, member: ox.NamedNode) -> None:
        ident = page.value(member, DCT + "identifier")
        if not ident:
            return
        if page.value(member, DCT + "type") == AS + "Delete":
            self._replace(product_graph(ident), [])
            self._replace(content_graph(ident), [])
            return
        self._replace(product_graph(ident), page.graph(member))
        self._replace(content_graph(ident), page.graph(ox.NamedNode(member.value + "#content")))

    def _replace(self, graph: str, triples: list[ox.Triple]) -> None:
        self._final[graph] = triples

    def close(self) -> None:
        """Write everything to disk (the store closes when released)."""
        self.store.flush()


class _Page:
    """One parsed page: its members, their metadata and payload graphs, its next page."""

    def __init__(self, quads: list[ox.Quad]) -> None:
        self.about: dict[ox.NamedNode | ox.BlankNode, dict[str, list[ox.Term]]] = {}  # type: ignore[name-defined]
        self.graphs: dict[str, list[ox.Triple]] = {}
        self.members: list[ox.NamedNode] = []
        for q in quads:
            if isinstance(q.graph_name, ox.DefaultGraph):
                self.about.setdefault(q.subject, {}).setdefault(q.predicate.value, []).append(
                    q.object
                )
                if q.predicate.value == TREE + "member":
                    self.members.append(q.object)
            else:
                triple = ox.Triple(q.subject, q.predicate, q.object)
                self.graphs.setdefault(q.graph_name.value, []).append(triple)
        self.next: str | None = None
        for props in self.about.values():
            for relation in props.get(TREE + "relation", []):
                if found := self.about.get(relation, {}).get(TREE + "node"):
                    self.next = found[0].value

    def value(self, subject: ox.NamedNode, predicate: str) -> str | None:
        found = self.about.get(subject, {}).get(predicate)
        return found[0].value if found else None

    def kind(self, subject: ox.NamedNode) -> str | None:
        return self.value(subject, RDF + "type")

    def graph(self, name: ox.NamedNode) -> list[ox.Triple]:
        return self.graphs.get(name.value, [])

    def ordered(self) -> list[ox.NamedNode]:
        """The members in stream order: time, product, versions before transitions, number."""

        def key(member: ox.NamedNode) -> tuple[str, str, int, int]:
            activity = self.kind(member) == PROV + "Activity"
            if activity:
                current = self.value(member, RDFS + "seeAlso")
                product = self.value(ox.NamedNode(current), DCT + "identifier") if current else ""
                number = member.value.rpartition("#transition-")[2]
            else:
                product = self.value(member, DCT + "identifier")
                number = self.value(member, DCAT + "version") or "0"
            return (
                self.value(member, PROV + "generatedAtTime") or "",
                product or "",
                int(activity),
                int(number) if number.isdigit() else 0,
            )

        return sorted(set(self.members), key=key)


def follow(
    url: str,
    store: str | Path | ox.Store,
    *,
    token: str | None = None,
    interval: float = 10.0,
    once: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
) -> Iterator[int]:
    """Keep ``store`` equal to what the caller (``token``; none: anonymous) may read of
    the catalogue at ``url``: sync, then poll every ``interval`` seconds (``once``: stop
    after the first sync). Yields the number of members each sync applied."""
    mirror = Mirror(url, store, token=token)
    try:
        while True:
            yield mirror.sync(progress)
            if once:
                return
            time.sleep(interval)
    finally:
        mirror.close()
