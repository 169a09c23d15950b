"""The search index proper: a tantivy index (in memory) of one document per product.

tantivy is the field's Lucene-like library (Rust, Python binding ``tantivy``): it updates
per document, so a write re-indexes the products it touched and nothing else. Text fields
are analysed by tantivy's own pipeline: words (letters and digits, so æ, ø and å stay
letters), lower case, then the Snowball Norwegian stemmer ("pleiepenger", "pleiepengar",
"pleiepengene" → "pleiepeng"). A query word matches its stem or, from three letters on,
any indexed stem it begins ("pleie" finds "pleiepeng"), through tantivy's term-dictionary
automaton (no scan of the documents).

Facet values are untokenised, multi-valued fast fields: a filter is a term query and the
counts are tantivy terms aggregations over the same query. ``spatial_set`` holds a
product's whole set of ``dct:spatial`` areas as one value, so that the count of products
applying in a place (in it or in an area containing it) is exact without expanding every
national product into every municipality.
"""

from __future__ import annotations

import json
import math
import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import tantivy

TEXT_FIELDS = {"title": 3.0, "keyword": 2.0, "description": 1.0}  # field → weight
FACET_FIELDS = ("theme", "publisher", "event", "spatial", "status")
SORT_LANGS = ("nb", "nn", "en")  # titles kept sortable per display language
ANALYZER = "eti_norwegian"
MAX_BUCKETS = 65_000
MAX_WORDS = 32  # distinct query words looked at (each costs a count)


def fold(text: str) -> str:
    """Composed (NFC) text: tantivy lower-cases but does not normalise."""
    return unicodedata.normalize("NFC", text)


def pick(texts: Mapping[str, str], lang: str) -> str:
    """The text in ``lang``, else Bokmål (English for English readers), Nynorsk, English."""
    for choice in (lang, "nb" if lang != "en" else "en", "nn", "en", "und"):
        if choice in texts:
            return texts[choice]
    return next(iter(texts.values()), "")


@dataclass
class Document:
    """One product as the index sees it."""

    iri: str
    ident: str
    fields: dict[str, list[str]] = field(default_factory=dict)  # title/keyword/description
    texts: dict[str, dict[str, str]] = field(default_factory=dict)  # kind → lang → text
    facets: dict[str, set[str]] = field(default_factory=dict)  # theme/publisher/... → IRIs
    modified: str | None = None


def _analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.stemmer("norwegian"))
        .build()
    )


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("iri", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("doc", stored=True, index_option="basic", tokenizer_name="raw")
    for name in TEXT_FIELDS:
        builder.add_text_field(name, tokenizer_name=ANALYZER, index_option="freq")
    for name in (*FACET_FIELDS, "spatial_set"):
        builder.add_text_field(name, tokenizer_name="raw", fast=True, index_option="basic")
    for lang in SORT_LANGS:
        builder.add_text_field("sort_" + lang, tokenizer_name="raw", fast=True)
    return builder.build()


class TextIndex:
    """Products by IRI: put (add or replace) and remove one at a time, search any time."""

    def __init__(self) -> None:
        self.schema = _schema()
        self.analyzer = _analyzer()
        self._index = tantivy.Index(self.schema)  # no path: in memory
        self._index.register_tokenizer(ANALYZER, self.analyzer)
        self._writer = self._index.writer(heap_size=50_000_000, num_threads=1)
        self._lock = threading.Lock()

    def stems(self, text: str) -> list[str]:
        """The stems tantivy indexes for ``text``."""
        return self.analyzer.analyze(fold(text))

    def apply(self, put: Iterable[Document], remove: Iterable[str] = ()) -> int:
        """Replace or add ``put``, delete the products ``remove``; one commit. Returns the
        number of documents written."""
        n = 0
        with self._lock:
            for iri in remove:
                self._writer.delete_documents_by_term("iri", iri)
            for doc in put:
                self._writer.delete_documents_by_term("iri", doc.iri)
                self._writer.add_document(self._tantivy_doc(doc))
                n += 1
            self._writer.commit()
            self._index.reload()
        return n

    def _tantivy_doc(self, doc: Document) -> tantivy.Document:
        values: dict[str, Any] = {"iri": doc.iri}
        stored = {
            "ident": doc.ident,
            "texts": doc.texts,
            "facets": {k: sorted(v) for k, v in doc.facets.items()},
            "modified": doc.modified,
        }
        values["doc"] = json.dumps(stored, ensure_ascii=False)
        for name in TEXT_FIELDS:
            if doc.fields.get(name):
                values[name] = [fold(t) for t in doc.fields[name]]
        for name in FACET_FIELDS:
            if doc.facets.get(name):
                values[name] = sorted(doc.facets[name])
        values["spatial_set"] = "\n".join(sorted(doc.facets.get("spatial", ())))
        titles = doc.texts.get("title", {})
        for lang in SORT_LANGS:
            values["sort_" + lang] = fold(pick(titles, lang)).casefold()
        return tantivy.Document(**values)

    def get(self, iri: str) -> Document | None:
        """The stored document of product ``iri``."""
        searcher = self._index.searcher()
        query = tantivy.Query.term_query(self.schema, "iri", iri)
        hits = searcher.search(query, 1).hits
        return _document(searcher.doc(hits[0][1])) if hits else None

    def __len__(self) -> int:
        return self._index.searcher().num_docs

    # -- queries ------------------------------------------------------------------------------

    def text_query(self, q: str) -> tantivy.Query | None:
        """The query for the words of ``q`` (None when it has none): every word must match
        one text field, a match in the title counting most, each word weighted by its
        rarity (log(1 + N/df), df the products it matches)."""
        wanted = list(dict.fromkeys(self.stems(q)))[:MAX_WORDS]
        if not wanted:
            return None
        searcher = self._index.searcher()
        n = searcher.num_docs or 1
        parts = []
        for stem in wanted:
            per_field = tantivy.Query.disjunction_max_query(
                [
                    tantivy.Query.boost_query(self._stem_query(name, stem), weight)
                    for name, weight in TEXT_FIELDS.items()
                ]
            )
            df = searcher.search(per_field, 1).count
            if df == 0:
                return tantivy.Query.empty_query()
            weight = math.log(1 + n / df)
            parts.append((tantivy.Occur.Must, tantivy.Query.boost_query(per_field, weight)))
        return tantivy.Query.boolean_query(parts)

    def _stem_query(self, name: str, stem: str) -> tantivy.Query:
        if len(stem) < 3:
            return tantivy.Query.term_query(self.schema, name, stem)
        return tantivy.Query.regex_query(self.schema, name, re.escape(stem) + ".*")

    def facet_query(self, name: str, values: Sequence[str]) -> tantivy.Query:
        """Products with any of ``values`` in facet ``name``."""
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(self.schema, name, v)) for v in values]
        )

    def search(
        self,
        must: Sequence[tantivy.Query],
        *,
        scored: bool,
        offset: int,
        limit: int,
        lang: str,
    ) -> tuple[int, list[tuple[float, Document]], dict[str, dict[str, int]]]:
        """(total, the page of (score, document), counts per facet field) of the products
        matching all of ``must``. Scored results rank by score (equal scores by title
        within the page); unscored ones by title in ``lang``."""
        searcher = self._index.searcher()
        query = (
            tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in must])
            if must
            else tantivy.Query.all_query()
        )
        order = "sort_" + (lang if lang in SORT_LANGS else "nb")
        total = searcher.search(query, 1).count
        hits: list[tuple[float, Document]] = []
        if offset >= total:
            pass  # a page past the end (tantivy would make room for every hit before it)
        elif scored:
            found = searcher.search(query, offset + limit).hits[offset:]
            hits = [(score, _document(searcher.doc(a))) for score, a in found]
            hits.sort(key=lambda h: (-h[0], pick(h[1].texts.get("title", {}), lang)))
        else:
            found = searcher.search(
                query, limit, order_by_field=order, order=tantivy.Order.Asc, offset=offset
            ).hits
            hits = [(0.0, _document(searcher.doc(a))) for _, a in found]
        aggregations = {
            name: {"terms": {"field": name, "size": MAX_BUCKETS}}
            for name in (*FACET_FIELDS, "spatial_set")
        }
        counted = searcher.aggregate(query, aggregations) if total else {}
        counts = {
            name: {b["key"]: b["doc_count"] for b in counted.get(name, {}).get("buckets", [])}
            for name in aggregations
        }
        return total, hits, counts


def _document(stored: tantivy.Document) -> Document:
    iri = stored.get_first("iri")
    data = json.loads(stored.get_first("doc"))
    return Document(
        iri,
        data["ident"],
        texts=data["texts"],
        facets={k: set(v) for k, v in data["facets"].items()},
        modified=data["modified"],
    )
