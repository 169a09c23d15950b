"""Discovery: Norwegian-aware free-text search over the public catalogue, with facets.

Text is folded to lower case (NFC, so æ, ø and å stay letters), split into words, and
each word reduced by a light Bokmål/Nynorsk stemmer (plural and definite endings:
"pleiepenger", "pleiepengar", "pleiepengene" all become "pleiepeng"); a query word
also matches as a prefix ("pleie" finds "pleiepenger"). Titles weigh most, then
keywords, then descriptions. The same matching is available inside SPARQL as the
extension functions ``eti:textMatch(?text, "query")`` and ``eti:textScore(...)``.

The municipality facet is where a product applies: the places of its ``dct:spatial``
and every place within them (``dct:isPartOf``), so a national product is found under
Flekkefjord too; a filter value may be a place IRI or its number ("4207").

The index is built from the public graph and cached until the store is written.
"""

from __future__ import annotations

import math
import re
import threading
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from . import clock, queries
from .namespaces import ETI
from .store import Store

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
WEIGHTS = {"title": 3.0, "keyword": 2.0, "description": 1.0}
FACETS = ("theme", "publisher", "event", "municipality", "status")
TTL = 30.0  # seconds an index may serve without a write seen in this process


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


@dataclass
class Document:
    """One product as the index sees it."""

    iri: str
    ident: str
    fields: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    texts: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    facets: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    modified: str | None = None


@dataclass
class Index:
    """Documents, their stems per field, document frequencies and facet labels."""

    documents: dict[str, Document]
    stems: dict[str, dict[str, set[str]]]
    frequency: Counter
    labels: dict[str, dict[str, str]]
    generation: int
    built: float
    places: dict[str, str] = field(default_factory=dict)  # number ("4207") → place IRI

    def idf(self, word: str) -> float:
        n = len(self.documents) or 1
        df = sum(c for s, c in self.frequency.items() if s == word or s.startswith(word)) or 1
        return math.log(1 + n / df)


def build(store: Store) -> Index:
    """Read the public catalogue into a fresh index."""
    # keyed to the generation before the reads: a write landing meanwhile makes it stale
    generation = store.generation
    docs: dict[str, Document] = {}
    for row in store.query(queries.load("search-documents")):
        iri = row["product"].value
        doc = docs.setdefault(iri, Document(iri, row["id"].value))
        if row["modified"] is not None:
            doc.modified = row["modified"].value
        if row["field"] is not None:
            kind, literal = row["field"].value, row["text"]
            doc.fields[kind].append(literal.value)
            lang = literal.language or "und"
            if kind in ("title", "description"):
                doc.texts[kind].setdefault(lang, literal.value)
    for row in store.query(queries.load("search-facets")):
        doc = docs.get(row["product"].value)
        if doc is not None:
            doc.facets[row["facet"].value].add(row["value"].value)
    for row in store.query(queries.load("search-life-events")):
        doc = docs.get(row["product"].value)
        if doc is not None:
            doc.facets["event"].add(row["event"].value)
    places = _apply_within(store, docs)
    stems: dict[str, dict[str, set[str]]] = {}
    frequency: Counter = Counter()
    for iri, doc in docs.items():
        stems[iri] = {
            kind: set(w for text in texts for w in words(text))
            for kind, texts in doc.fields.items()
        }
        frequency.update(set().union(*stems[iri].values()) if stems[iri] else set())
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    for row in store.query(queries.load("search-labels")):
        lang = row["label"].language or "und"
        labels[row["value"].value].setdefault(lang, row["label"].value)
    return Index(docs, stems, frequency, dict(labels), generation, time.monotonic(), places)


def _apply_within(store: Store, docs: dict[str, Document]) -> dict[str, str]:
    """Add to each product's municipality facet every place lying in one of its areas (a
    product for all of Norway applies in Flekkefjord); return the places by number."""
    within: dict[str, set[str]] = defaultdict(set)  # place → itself and the areas it lies in
    numbers: dict[str, str] = {}
    for row in store.query(queries.load("places-within")):
        place = row["place"].value
        within[place].add(place)
        if row["area"] is not None:
            within[place].add(row["area"].value)
        if row["number"] is not None:
            numbers[row["number"].value] = place
    for doc in docs.values():
        spatial = set(doc.facets.get("municipality", set()))
        if spatial:
            doc.facets["municipality"] |= {p for p, areas in within.items() if areas & spatial}
    return numbers


class Searcher:
    """The cached index of one catalogue, rebuilt after writes."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._index: Index | None = None
        self._lock = threading.Lock()

    def index(self) -> Index:
        """The current index (rebuilt when the store was written since)."""
        current = self._index
        if (
            current is not None
            and current.generation == self.store.generation
            and time.monotonic() - current.built < TTL
        ):
            return current
        with self._lock:
            current = self._index
            if (
                current is None
                or current.generation != self.store.generation
                or time.monotonic() - current.built >= TTL
            ):
                current = self._index = build(self.store)
        return current

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
        index = self.index()
        if filters and filters.get("municipality"):
            filters = {
                **filters,
                "municipality": [index.places.get(v, v) for v in filters["municipality"]],
            }
        wanted = words(q)
        scored: list[tuple[float, str, Document]] = []
        for iri, doc in index.documents.items():
            if filters and any(
                values and not (doc.facets.get(name, set()) & set(values))
                for name, values in filters.items()
            ):
                continue
            score = 0.0
            if wanted:
                for w in wanted:
                    best = max(
                        (
                            WEIGHTS[kind]
                            for kind, have in index.stems[iri].items()
                            if _matches(w, have)
                        ),
                        default=0.0,
                    )
                    if best == 0.0:
                        score = -1.0
                        break
                    score += best * index.idf(w)
                if score < 0:
                    continue
            scored.append((score, _pick(doc.texts.get("title", {}), lang), doc))
        scored.sort(key=lambda item: (-item[0], item[1]))
        counts: dict[str, Counter] = {name: Counter() for name in FACETS}
        for _, _, doc in scored:
            for name in FACETS:
                counts[name].update(doc.facets.get(name, set()))
        start = max(page - 1, 0) * per_page
        return {
            "query": q,
            "total": len(scored),
            "page": page,
            "per_page": per_page,
            "results": [
                _result(doc, score, index, lang)
                for score, _, doc in scored[start : start + per_page]
            ],
            "facets": {
                name: [
                    {
                        "value": value,
                        "label": _pick(index.labels.get(value, {}), lang)
                        or value.rsplit("/", 1)[-1],
                        "count": n,
                    }
                    for value, n in sorted(counts[name].items(), key=lambda kv: (-kv[1], kv[0]))
                ]
                for name in FACETS
            },
        }


def _pick(texts: dict[str, str], lang: str) -> str:
    for choice in (lang, "nb" if lang != "en" else "en", "nn", "en", "und"):
        if choice in texts:
            return texts[choice]
    return next(iter(texts.values()), "")


def _result(doc: Document, score: float, index: Index, lang: str) -> dict[str, Any]:
    publishers = sorted(doc.facets.get("publisher", set()))
    return {
        "id": doc.ident,
        "iri": doc.iri,
        "score": round(score, 4),
        "title": _pick(doc.texts.get("title", {}), lang),
        "description": _pick(doc.texts.get("description", {}), lang),
        "publisher": publishers[0] if publishers else None,
        "publisher_name": _pick(index.labels.get(publishers[0], {}), lang) if publishers else None,
        "themes": sorted(doc.facets.get("theme", set())),
        "status": next(iter(sorted(doc.facets.get("status", set()))), None),
        "modified": doc.modified,
    }
