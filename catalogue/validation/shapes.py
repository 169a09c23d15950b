"""The shapes of the profiles and the shipped vocabularies, loaded once per process,
and the SPARQL of the shapes' constraints, parsed once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH, SKOS
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import Node

from .terms import PROFILES

_VOCAB_PREDICATES = (RDF.type, SKOS.inScheme)


@dataclass(frozen=True)
class _ShapeSet:
    graph: Graph
    profile_of: dict[Node, str]


@cache
def _profile_graph(profile: str) -> Graph:
    text = (resources.files("eti.shapes") / f"{profile}.ttl").read_text(encoding="utf-8")
    return Graph().parse(data=text, format="turtle")


@lru_cache(maxsize=16)
def _shape_set(profiles: tuple[str, ...]) -> _ShapeSet:
    graph = Graph()
    profile_of: dict[Node, str] = {}
    for profile in profiles:
        g = _profile_graph(profile)
        for prefix, namespace in g.namespaces():
            graph.bind(prefix if prefix else profile.replace("-", ""), namespace, override=False)
        for triple in g:
            graph.add(triple)
        for s in set(g.subjects()):
            profile_of[s] = profile
    return _ShapeSet(graph, profile_of)


def shapes_graph(profiles: Sequence[str] | None = None) -> Graph:
    """The shapes of ``profiles`` (default: all) as one graph (do not modify it)."""
    return _shape_set(_check_profiles(profiles)).graph


@lru_cache(maxsize=1)
def _vocabularies() -> tuple[Graph, dict[Node, tuple[tuple[URIRef, Node], ...]], tuple]:
    graph = Graph()
    base = resources.files("eti.ontology")
    vocab_dir = base / "vocabularies"
    if vocab_dir.is_dir():
        for entry in sorted(vocab_dir.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".ttl"):
                graph.parse(data=entry.read_text(encoding="utf-8"), format="turtle")
    ontology = base / "eti.ttl"
    if ontology.is_file():
        graph.parse(data=ontology.read_text(encoding="utf-8"), format="turtle")
    index: dict[Node, list[tuple[URIRef, Node]]] = defaultdict(list)
    for predicate in _VOCAB_PREDICATES:
        for s, o in graph.subject_objects(predicate):
            index[s].append((predicate, o))
    axioms = tuple(
        (s, RDFS.subClassOf, o)
        for s, o in graph.subject_objects(RDFS.subClassOf)
        if isinstance(s, URIRef) and isinstance(o, URIRef)
    )
    return graph, {k: tuple(v) for k, v in index.items()}, axioms


def vocabulary_graph() -> Graph:
    """The shipped vocabularies and ontology, as loaded by the validator (do not modify)."""
    return _vocabularies()[0]


@lru_cache(maxsize=256)
def _prepared(text: str) -> Query:
    return prepareQuery(text)


class _WorkGraph(Graph):
    """The validator's copy of the data: SPARQL text is parsed once per process.

    pySHACL sends the same text of a SPARQL-based constraint for every focus
    node (binding ``$this`` separately); rdflib would parse it every time,
    which costs more than evaluating it. Only the shapes' own query texts
    reach this graph.
    """

    def query(self, query_object, *args, **kwargs):  # type: ignore[override]
        if isinstance(query_object, str):
            query_object = _prepared(query_object)
        return super().query(query_object, *args, **kwargs)


def _check_profiles(profiles: Sequence[str] | None) -> tuple[str, ...]:
    if profiles is None:
        return PROFILES
    if isinstance(profiles, str):
        profiles = [profiles]
    chosen = []
    for profile in profiles:
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r} (known: {', '.join(PROFILES)})")
        if profile not in chosen:
            chosen.append(profile)
    if not chosen:
        raise ValueError("no profile chosen")
    return tuple(p for p in PROFILES if p in chosen)


def shape_messages(shape: URIRef) -> tuple[str, str]:
    graph = _shape_set(PROFILES).graph
    nb = en = ""
    for message in graph.objects(shape, SH.message):
        if isinstance(message, Literal):
            if message.language == "nb":
                nb = str(message)
            elif message.language == "en":
                en = str(message)
    return nb, en


@lru_cache(maxsize=1024)
def _message_languages(shape: Node | None) -> dict[str, str]:
    """Text -> language of the tagged ``sh:message`` of ``shape`` and of its
    SPARQL-based constraints."""
    if shape is None:
        return {}
    graph = _shape_set(PROFILES).graph
    holders = [shape, *graph.objects(shape, SH.sparql)]
    out: dict[str, str] = {}
    for holder in holders:
        for message in graph.objects(holder, SH.message):
            if isinstance(message, Literal) and message.language:
                out.setdefault(str(message), message.language)
    return out


def _merge_vocabulary(work: Graph, referenced: Iterable[Node]) -> None:
    """Add the vocabulary triples of the ``referenced`` subjects and objects of
    ``work`` (those that are IRIs), and the subclass axioms."""
    _graph, index, axioms = _vocabularies()
    for node in referenced:
        if isinstance(node, URIRef):
            for p, o in index.get(node, ()):
                work.add((node, p, o))
    for triple in axioms:
        work.add(triple)
