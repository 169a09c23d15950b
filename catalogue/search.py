"""Discovery: Norwegian-aware free-text search over the public catalogue, with facets.

The index (``textindex``: tantivy, Snowball Norwegian stems, "pleiepenger", "pleiepengar"
and "pleiepengene" all find Nav's product, "pleie" finds it as a prefix) holds one
document per product. Titles weigh most, then keywords, then descriptions. Inside SPARQL
the extension functions ``eti:textMatch(?text, "query")`` and ``eti:textScore(...)`` match
the same way with a light stemmer of their own (``stem`` below), which agrees with the
index on plural and definite endings.

The municipality facet is where a product applies: the places of its ``dct:spatial``
and every place within them (``dct:isPartOf``), so a national product is found under
Flekkefjord too; a filter value may be a place IRI or its number ("4207").

Incremental, never rebuilt. Each process holds its own index (in memory) and catches up
from the store, which all processes share: every write door stamps the product's
catalogue record with ``dct:modified`` (whole seconds) and a new ``dcat:version``. A look
(``search-changes``) reads the records stamped in each second since the previous look,
less ``MARGIN`` (slow commits, clock skew): one index lookup per second, not a scan of
the records. Only products whose version differs from the indexed one are read again
(three small queries each) and replaced in the index, or removed when withdrawn. A
process looks on its first search (listing every record, ``search-records``), after its
writes (the store's generation changed: over a remote store a write through any process
changes it), so a write through one process is found through another on its next
request. A gap longer than ``WINDOW``, and every ``RECONCILE`` seconds, a look lists
every record instead (still re-indexing only what differs), which also catches records
written with older stamps (a restore).
Labels of facet values (vocabularies, agents, places) are small and re-read every
``TTL`` seconds.
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from datetime import datetime, timedelta
from typing import Any

import pyoxigraph as ox

from . import clock, queries
from .namespaces import ETI, content_graph
from .records import record_stamp
from .store import Store
from .textindex import Document, TextIndex, pick

WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Longest first: definite plural, plural, definite singular (nb and nn), genitive.
SUFFIXES = (
    "ene",
    "ane",
    "ende",
    "heten",
    "else",
    "ens",
    "ers",
    "er",
    "ar",
    "en",
    "an",
    "et",
    "a",
    "e",
    "s",
)
FACETS = ("theme", "publisher", "event", "municipality", "status")
TTL = 30.0  # seconds facet labels and places may serve before they are read again
RECONCILE = 3600.0  # seconds between looks that list every record
MARGIN = timedelta(minutes=2)  # a look also reads records stamped this long before the last
SKEW = timedelta(seconds=10)  # ... and this far ahead (another process's clock)
WINDOW = timedelta(hours=2)  # a longer gap since the last look lists every record
BULK = 50  # more changed products than this are read by whole-catalogue queries


def fold(text: str) -> str:
    """Lower case, composed (NFC) text."""
    return unicodedata.normalize("NFC", text).casefold()


def stem(word: str) -> str:
    """A light Norwegian stem: strip one common ending, keeping at least 4 letters."""
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def words(text: str) -> list[str]:
    """The stems of ``text``."""
    return [stem(w) for w in WORD.findall(fold(text))]


def _matches(query_stem: str, doc_stems: Iterable[str]) -> bool:
    return any(
        d == query_stem or (len(query_stem) >= 3 and d.startswith(query_stem)) for d in doc_stems
    )


def text_score(text: str, query: str) -> float:
    """How well ``text`` matches ``query``: the share of query words it contains."""
    wanted = words(query)
    if not wanted:
        return 0.0
    have = set(words(text))
    return sum(1 for w in wanted if _matches(w, have)) / len(wanted)


def sparql_functions() -> dict[ox.NamedNode, Callable[..., Any]]:
    """``eti:textMatch``, ``eti:textScore`` and ``eti:today`` for pyoxigraph queries."""

    def match(text: Any, query: Any) -> ox.Literal | None:
        if not isinstance(text, ox.Literal) or not isinstance(query, ox.Literal):
            return None
        wanted = words(query.value)
        have = set(words(text.value))
        ok = bool(wanted) and all(_matches(w, have) for w in wanted)
        return ox.Literal(
            "true" if ok else "false",
            datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean"),
        )

    def score(text: Any, query: Any) -> ox.Literal | None:
        if not isinstance(text, ox.Literal) or not isinstance(query, ox.Literal):
            return None
        return ox.Literal(
            repr(text_score(text.value, query.value)),
            datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#double"),
        )

    def today() -> ox.Literal:
        # the catalogue's day (its clock), where NOW() is the engine's real one
        return ox.Literal(
            clock.today().isoformat(),
            datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date"),
        )

    return {
        ox.NamedNode(ETI + "textMatch"): match,
        ox.NamedNode(ETI + "textScore"): score,
        ox.NamedNode(ETI + "today"): today,
    }


class Documents:
    """The indexed products by IRI (``get`` only: they live in the index)."""

    def __init__(self, index: TextIndex) -> None:
        self._index = index

    def get(self, iri: str) -> Document | None:
        """The document of product ``iri``, or None when it is not in discovery."""
        return self._index.get(iri)


class Searcher:
    """The search index of one catalogue, kept up to date product by product."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.text = TextIndex()
        self.documents = Documents(self.text)
        self.labels: dict[str, dict[str, str]] = {}
        self.places: dict[str, str] = {}  # number ("4207") → place IRI
        self.within: dict[str, set[str]] = {}  # place → itself and the areas it lies in
        self.reindexed = 0  # documents written to the index by this process
        self._versions: dict[str, tuple[str, str]] = {}  # product IRI → (id, version)
        self._generation: Hashable = None
        self._since: datetime | None = None  # the next look reads records stamped since
        self._labels_at = self._listed_at = -RECONCILE
        self._lock = threading.Lock()

    def index(self) -> Searcher:
        """This searcher, caught up with the store (``documents``, ``labels``, ``places``)."""
        with self._lock:
            self._catch_up()
        return self

    def _catch_up(self) -> None:
        now, look = time.monotonic(), clock.now()
        generation = self.store.generation  # read first: a write landing meanwhile is seen next
        if now - self._labels_at >= TTL:
            self._read_labels()
            self._labels_at = now
        full = self._since is None or now - self._listed_at >= RECONCILE
        if not full and generation == self._generation:
            # nothing written since the last look (a remote store's generation is changed
            # by a write through any process)
            self._since = max(self._since, look - MARGIN)  # type: ignore[type-var]
            return
        if not full and not timedelta(0) <= look + SKEW - self._since <= WINDOW:  # type: ignore[operator]
            full = True  # a long gap (an idle process over a remote store), or a clock moved back
        if full:
            rows = self.store.query(queries.load("search-records"))
        else:
            rows = self.store.query(_stamped(self._since, look + SKEW))  # type: ignore[arg-type]
        current: dict[str, tuple[str, str]] = {}
        gone: set[str] = set()
        for row in rows:
            product = row["product"].value
            status = row["status"].value if row["status"] is not None else ""
            if status.endswith("WITHDRAWN"):
                gone.add(product)
            else:
                current[product] = (row["id"].value, row["version"].value)
        if full:
            gone |= self._versions.keys() - current.keys()
            self._listed_at = now
        gone &= self._versions.keys()
        changed = {p: key for p, key in current.items() if self._versions.get(p) != key}
        docs = self._read(changed) if changed else {}
        missing = changed.keys() - docs.keys()  # registered, but not a product in public
        self.reindexed += self.text.apply(docs.values(), gone | (missing & self._versions.keys()))
        for product in gone:
            self._versions.pop(product, None)
        self._versions.update(changed)
        self._generation = generation
        self._since = look - MARGIN

    def _read(self, changed: dict[str, tuple[str, str]]) -> dict[str, Document]:
        """The documents of the ``changed`` products, read from the public graph."""
        if len(changed) > BULK:
            docs = _read_documents(self.store, None)
            docs = {iri: doc for iri, doc in docs.items() if iri in changed}
            by_graph = {content_graph(ident): iri for iri, (ident, _) in changed.items()}
            for row in self.store.query(queries.load("search-life-events")):
                doc = docs.get(by_graph.get(row["graph"].value, ""))
                if doc is not None:
                    doc.facets.setdefault("event", set()).add(row["event"].value)
            return docs
        docs = {}
        for product, (ident, _) in changed.items():
            found = _read_documents(self.store, ox.NamedNode(product))
            if product in found:
                doc = docs[product] = found[product]
                events = self.store.query(
                    queries.load("search-product-events"),
                    bindings={"graph": ox.NamedNode(content_graph(ident))},
                )
                doc.facets["event"] = {row["event"].value for row in events}
        return docs

    def _read_labels(self) -> None:
        labels: dict[str, dict[str, str]] = defaultdict(dict)
        for row in self.store.query(queries.load("search-labels")):
            lang = row["label"].language or "und"
            labels[row["value"].value].setdefault(lang, row["label"].value)
        within: dict[str, set[str]] = defaultdict(set)
        numbers: dict[str, str] = {}
        for row in self.store.query(queries.load("places-within")):
            place = row["place"].value
            within[place].add(place)
            if row["area"] is not None:
                within[place].add(row["area"].value)
            if row["number"] is not None:
                numbers[row["number"].value] = place
        self.labels, self.within, self.places = dict(labels), dict(within), numbers

    def search(
        self,
        q: str = "",
        *,
        filters: dict[str, list[str]] | None = None,
        page: int = 1,
        per_page: int = 20,
        lang: str = "nb",
    ) -> dict[str, Any]:
        """Ranked, faceted, paged results."""
        self.index()
        must = []
        text = self.text.text_query(q)
        if text is not None:
            must.append(text)
        for name, values in (filters or {}).items():
            if not values:
                continue
            if name == "municipality":
                places = {self.places.get(v, v) for v in values}
                areas = set().union(*(self.within.get(p, {p}) for p in places))
                must.append(self.text.facet_query("spatial", sorted(areas)))
            else:
                must.append(self.text.facet_query(name, values))
        start = max(page - 1, 0) * per_page
        total, hits, counts = self.text.search(
            must, scored=text is not None, offset=start, limit=per_page, lang=lang
        )
        counts["municipality"] = self._place_counts(counts.pop("spatial_set"))
        return {
            "query": q,
            "total": total,
            "page": page,
            "per_page": per_page,
            "results": [_result(doc, score, self.labels, lang) for score, doc in hits],
            "facets": {
                name: [
                    {
                        "value": value,
                        "label": pick(self.labels.get(value, {}), lang) or value.rsplit("/", 1)[-1],
                        "count": n,
                    }
                    for value, n in sorted(counts[name].items(), key=lambda kv: (-kv[1], kv[0]))
                ]
                for name in FACETS
            },
        }

    def _place_counts(self, by_set: dict[str, int]) -> dict[str, int]:
        """Products applying in each place: those whose areas include it or one it lies in
        (``by_set`` counts the products of each distinct set of ``dct:spatial`` areas)."""
        sets = [(set(key.split("\n")), n) for key, n in by_set.items() if key]
        places = set(self.within).union(*(areas for areas, _ in sets))
        counts = {}
        for place in places:
            reach = self.within.get(place, {place})
            n = sum(count for areas, count in sets if areas & reach)
            if n:
                counts[place] = n
        return counts


def _stamped(start: datetime, end: datetime) -> str:
    """``search-changes`` for the records stamped in each second from ``start`` to ``end``
    (the VALUES block holds pyoxigraph's own serialisation of each instant)."""
    seconds = int((end - start).total_seconds()) + 1
    instants = " ".join(str(record_stamp(start + timedelta(seconds=i))) for i in range(seconds))
    return queries.load("search-changes").replace(
        "VALUES ?modified { }", f"VALUES ?modified {{ {instants} }}"
    )


def _read_documents(store: Store, product: ox.NamedNode | None) -> dict[str, Document]:
    """Text and facets of the public products (or of ``product``), by IRI."""
    bindings = {"product": product} if product is not None else None
    docs: dict[str, Document] = {}
    for row in store.query(queries.load("search-documents"), bindings=bindings):
        iri = row["product"].value
        doc = docs.setdefault(iri, Document(iri, row["id"].value))
        if row["modified"] is not None:
            doc.modified = row["modified"].value
        if row["field"] is not None:
            kind, literal = row["field"].value, row["text"]
            doc.fields.setdefault(kind, []).append(literal.value)
            if kind in ("title", "description"):
                doc.texts.setdefault(kind, {}).setdefault(literal.language or "und", literal.value)
    for row in store.query(queries.load("search-facets"), bindings=bindings):
        doc = docs.get(row["product"].value)
        if doc is not None:
            doc.facets.setdefault(row["facet"].value, set()).add(row["value"].value)
    return docs


def _result(
    doc: Document, score: float, labels: dict[str, dict[str, str]], lang: str
) -> dict[str, Any]:
    publishers = sorted(doc.facets.get("publisher", set()))
    return {
        "id": doc.ident,
        "iri": doc.iri,
        "score": round(score, 4),
        "title": pick(doc.texts.get("title", {}), lang),
        "description": pick(doc.texts.get("description", {}), lang),
        "publisher": publishers[0] if publishers else None,
        "publisher_name": pick(labels.get(publishers[0], {}), lang) if publishers else None,
        "themes": sorted(doc.facets.get("theme", set())),
        "status": next(iter(sorted(doc.facets.get("status", set()))), None),
        "modified": doc.modified,
    }
