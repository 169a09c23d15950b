"""Registering data products: register, update, withdraw, history.

A product arrives as RDF: its description (the ``dprod:DataProduct``, datasets, ports,
contact points, offers) and its content (``cpsv:PublicService`` and what they refer
to). The two are split, validated together with the small context they need, and
written in one transaction with a catalogue record (``dcat:CatalogRecord``, PROV-O)
and a snapshot of the version, so any earlier version can be read back.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pyoxigraph as ox

from . import clock, queries
from .auth import Identity
from .graphs import insert_data
from .namespaces import (
    ADMS,
    AGENTS,
    BRREG,
    CPSV,
    DCAT,
    DCT,
    DPROD,
    FOAF,
    PROV,
    RDF,
    RDFS,
    READ,
    RECORDS,
    XSD,
    content_graph,
    history_graph,
    is_valid_id,
    product_graph,
)
from .provenance import DEMO_AGENT, agent_iri, agent_triples
from .store import Store, bind_inline
from .writes import BadInput, Conflict, Forbidden, NotFound, commit, serialised

STATUS = "http://publications.europa.eu/resource/authority/distribution-status/"
AUTHORITATIVE = "https://w3id.org/eti#isAuthoritativeSourceFor"
IDENTIFIER = DCT + "identifier"
TYPE = RDF + "type"
# Where content stops: these resources belong to the description or the agents.
_BOUNDARY_TYPES = {
    DPROD + "DataProduct",
    FOAF + "Organization",
    FOAF + "Agent",
    DCAT + "Dataset",
    DCAT + "DataService",
    DCAT + "Distribution",
}

RegistrationError = BadInput


@dataclass
class Submission:
    """A product as submitted: description and content triples."""

    description: list[ox.Triple]
    content: list[ox.Triple]


@dataclass
class Registration:
    """What a registration did."""

    ident: str
    iri: str
    version: int
    created: bool
    reports: list = field(default_factory=list)


@dataclass
class Record:
    """The catalogue's record of a product."""

    ident: str
    iri: str
    version: int
    status: str
    publisher: str | None
    orgnr: str | None
    issued: str | None
    modified: str | None

    @property
    def withdrawn(self) -> bool:
        return self.status.endswith("WITHDRAWN")


def _triple(q: ox.Quad | ox.Triple) -> ox.Triple:
    return ox.Triple(q.subject, q.predicate, q.object)


def split(quads: Sequence[ox.Quad | ox.Triple]) -> Submission:
    """Description and content of a submission.

    With named graphs (TriG, N-Quads, JSON-LD), the default graph is the description and
    the named graphs the content. Otherwise the content is what the public services
    reach (their requirements, legal resources, channels, rules), and everything the
    product reaches stays in the description; a resource both reach is in both.
    """
    named = [
        q for q in quads if isinstance(q, ox.Quad) and not isinstance(q.graph_name, ox.DefaultGraph)
    ]
    if named:
        default = [
            _triple(q)
            for q in quads
            if not isinstance(q, ox.Quad) or isinstance(q.graph_name, ox.DefaultGraph)
        ]
        return Submission(default, [_triple(q) for q in named])
    triples = [_triple(q) for q in quads]
    by_subject: dict[object, list[ox.Triple]] = {}
    types: dict[object, set[str]] = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)
        if t.predicate.value == TYPE and isinstance(t.object, ox.NamedNode):
            types.setdefault(t.subject, set()).add(t.object.value)
    services = [s for s, kinds in types.items() if CPSV + "PublicService" in kinds]

    def reach(starts: list, skip_predicate: str | None) -> set:
        seen, todo = set(), list(starts)
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            for t in by_subject.get(node, []):
                if t.predicate.value == skip_predicate:
                    continue
                target = t.object
                if target in by_subject and not (
                    types.get(target, set()) & _BOUNDARY_TYPES and target not in starts
                ):
                    todo.append(target)
        return seen

    content_nodes = reach(services, None)
    products = [s for s, kinds in types.items() if DPROD + "DataProduct" in kinds]
    # what the product reaches (not through the items it is the source of) stays in the
    # description, also when a service reaches it too (e.g. a shared contact point)
    description_nodes = reach(products, AUTHORITATIVE)
    description = [
        t for t in triples if t.subject not in content_nodes or t.subject in description_nodes
    ]
    content = [t for t in triples if t.subject in content_nodes]
    return Submission(description, content)


def product_iri(description: Sequence[ox.Triple]) -> ox.NamedNode:
    """The one ``dprod:DataProduct`` a description is about."""
    typed = {
        t.subject
        for t in description
        if t.predicate.value == TYPE
        and isinstance(t.object, ox.NamedNode)
        and t.object.value == DPROD + "DataProduct"
    }
    if len(typed) != 1:
        raise BadInput(
            f"a product description must describe exactly one dprod:DataProduct, found {len(typed)}"
        )
    (iri,) = typed
    if not isinstance(iri, ox.NamedNode):
        raise BadInput("the data product must be named by an IRI, not a blank node")
    return iri


def derive_id(description: Sequence[ox.Triple], iri: ox.NamedNode) -> str:
    """The product's id: its ``dct:identifier`` when that is a valid id, else a slug of
    the last segment of its IRI."""
    for t in description:
        if (
            t.subject == iri
            and t.predicate.value == DCT + "identifier"
            and is_valid_id(t.object.value)
        ):
            return t.object.value
    tail = re.split(r"[/#]", iri.value.rstrip("/#"))[-1]
    slug = unicodedata.normalize("NFKD", tail).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", slug).strip("-")[:128]
    if not is_valid_id(slug):
        raise BadInput(
            f"cannot make an id from <{iri.value}>: give the product a "
            "dct:identifier of a-z, 0-9 and '-'"
        )
    return slug


def description_snapshot(ident: str, version: int) -> str:
    """The graph holding the description alone of version ``version`` (the history graph
    holds description and content): what anyone may see of an earlier version."""
    return f"{history_graph(ident, version).rsplit(':', 1)[0]}:description-{int(version)}"


def record_iri(ident: str, version: int | None = None) -> str:
    """The catalogue record of a product (or of one of its versions)."""
    return f"urn:eti:record:{ident}" + (f":v{version}" if version else "")


def get_record(store: Store, ident: str) -> Record | None:
    """The record of product ``ident``, or None."""
    rows = list(
        store.query(
            queries.load("product-record"), bindings={"record": ox.NamedNode(record_iri(ident))}
        )
    )
    if not rows:
        return None
    row = rows[0]

    def val(name: str) -> str | None:
        return row[name].value if row[name] is not None else None

    return Record(
        ident,
        row["product"].value,
        int(row["version"].value),
        row["status"].value,
        val("publisher"),
        val("orgnr"),
        val("issued"),
        val("modified"),
    )


def id_of_iri(store: Store, iri: ox.NamedNode) -> str | None:
    """The id under which a product IRI is registered."""
    rows = list(store.query(queries.load("record-of-product"), bindings={"product": iri}))
    return rows[0]["id"].value if rows else None


def registered_agent(store: Store, agent: ox.NamedNode) -> list[ox.Triple]:
    """What the agents graph says about ``agent`` (empty when it is not in it)."""
    return list(store.query(queries.load("agent-description"), bindings={"agent": agent}))


def check_agents(store: Store, triples: Sequence[ox.Triple]) -> None:
    """Refuse a body that restates an organisation or channel differently from the agents
    graph, or gives an Enhetsregisteret IRI another organisation number than its own.

    The agents graph is the catalogue's word on who is who: a product body that said
    ``enhet:983544622 dct:identifier "889640782"`` would otherwise let Nav's steward
    register as Helsedirektoratet, and would add the claim to the public view."""
    stated: dict[ox.NamedNode, set[str]] = {}
    for t in triples:
        if isinstance(t.subject, ox.NamedNode):
            stated.setdefault(t.subject, set()).add(_key(t))
    for subject, keys in sorted(stated.items(), key=lambda item: item[0].value):
        if subject.value.startswith(BRREG):
            number = subject.value[len(BRREG) :]
            claimed = {
                t.object.value
                for t in triples
                if t.subject == subject and t.predicate.value == DCT + "identifier"
            }
            if claimed - {number}:
                raise Forbidden(
                    f"<{subject.value}> is organisation {number} in Enhetsregisteret, but "
                    f"the body gives it dct:identifier {', '.join(sorted(claimed))}"
                )
        known = registered_agent(store, subject)
        if not known:
            continue
        differ = sorted(keys - {_key(t) for t in known})
        if differ:
            raise Forbidden(
                f"the body states about <{subject.value}> what the catalogue's agents graph "
                f"does not say ({differ[0]}{' and more' if len(differ) > 1 else ''}): "
                "organisations and channels are kept in the agents graph, not restated "
                "in a product"
            )


def orgnrs(
    store: Store, description: Sequence[ox.Triple], iri: ox.NamedNode, predicate: str
) -> set[str]:
    """Organisation numbers of the agents ``iri`` names with ``predicate``.

    An agent in the agents graph has the number the agents graph gives it, whatever the
    body says; an Enhetsregisteret IRI has its own; only another agent takes the body's
    ``dct:identifier``."""
    agents = {t.object for t in description if t.subject == iri and t.predicate.value == predicate}
    numbers: set[str] = set()
    for agent in agents:
        if isinstance(agent, ox.NamedNode):
            known = registered_agent(store, agent)
            if known:
                numbers.update(t.object.value for t in known if t.predicate.value == IDENTIFIER)
                continue
            if agent.value.startswith(BRREG):
                numbers.add(agent.value[len(BRREG) :])
                continue
        numbers.update(
            t.object.value
            for t in description
            if t.subject == agent and t.predicate.value == IDENTIFIER
        )
    return numbers


def owner_of(store: Store, record: Record) -> str | None:
    """The organisation a registered product belongs to: its publisher's number in the
    agents graph, else the one its latest stored description gives (a publisher that is
    not in the agents graph), so that no other steward can claim it."""
    if record.orgnr is not None:
        return record.orgnr
    iri = ox.NamedNode(record.iri)
    for n in range(record.version, 0, -1):
        description = store.triples(history_graph(record.ident, n))
        if description:
            found = orgnrs(store, description, iri, DCT + "publisher")
            return next(iter(found)) if len(found) == 1 else None
    return None


def _check_scope(
    store: Store, who: Identity, owners: set[str], publishers: set[str], record: Record | None
) -> None:
    if who.role == "admin":
        return
    if who.role != "steward":
        raise Forbidden("only stewards (and admins) register products")
    if owners != {who.org} or publishers != {who.org}:
        raise Forbidden(
            f"a steward of {who.org} may only register products whose owner and "
            f"publisher are organisation {who.org} (found owner "
            f"{', '.join(sorted(owners)) or 'none'}, publisher "
            f"{', '.join(sorted(publishers)) or 'none'})"
        )
    if record is not None and (owner := owner_of(store, record)) != who.org:
        raise Forbidden(
            f"product {record.ident} belongs to organisation {owner}"
            if owner
            else f"product {record.ident} has no owning organisation: only an admin may change it"
        )


def record_stamp(value: datetime) -> ox.Literal:
    """A record's dct:modified: whole seconds, UTC, "Z" (the search index looks records up
    by this exact form, second by second)."""
    text = value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return ox.Literal(text, datatype=ox.NamedNode(XSD + "dateTime"))


def _record_ops(
    ident: str,
    iri: ox.NamedNode,
    version: int,
    status: str,
    who: Identity,
    now: datetime,
    issued: ox.Literal | str | None,
    publisher: ox.NamedNode | None,
) -> list[str]:
    record = ox.NamedNode(record_iri(ident))
    this = ox.NamedNode(record_iri(ident, version))
    agent = ox.NamedNode(agent_iri(who))
    when = record_stamp(now)
    if isinstance(issued, str):
        issued = ox.Literal(issued, datatype=ox.NamedNode(XSD + "dateTime"))

    def t(s: ox.NamedNode, p: str, o: ox.NamedNode | ox.Literal) -> ox.Triple:
        return ox.Triple(s, ox.NamedNode(p), o)

    triples = [
        t(record, TYPE, ox.NamedNode(DCAT + "CatalogRecord")),
        t(record, FOAF + "primaryTopic", iri),
        t(record, DCT + "identifier", ox.Literal(ident)),
        t(record, DCT + "issued", issued or when),
        t(record, DCT + "modified", when),
        t(record, DCAT + "version", ox.Literal(str(version))),
        t(record, ADMS + "status", ox.NamedNode(STATUS + status)),
        t(record, PROV + "wasAttributedTo", agent),
        t(record, DCAT + "hasVersion", this),
        t(record, DCAT + "hasCurrentVersion", this),
        t(this, TYPE, ox.NamedNode(DCAT + "CatalogRecord")),
        t(this, FOAF + "primaryTopic", iri),
        t(this, DCAT + "version", ox.Literal(str(version))),
        t(this, DCT + "issued", when),
        t(this, ADMS + "status", ox.NamedNode(STATUS + status)),
        t(this, PROV + "wasAttributedTo", agent),
        t(this, PROV + "generatedAtTime", when),
        t(this, RDFS + "seeAlso", ox.NamedNode(history_graph(ident, version))),
    ]
    if publisher is not None:
        triples.append(t(record, DCT + "publisher", publisher))
    if version > 1:
        triples.append(
            t(this, DCAT + "previousVersion", ox.NamedNode(record_iri(ident, version - 1)))
        )
    triples += agent_triples(who)  # a JWT client: its id and whom it acted for
    stage = bind_inline(queries.load("stage-record"), {"record": record})
    clear = bind_inline(queries.load("clear-current-record"), {"record": record})
    return [stage, clear, insert_data({RECORDS: triples, READ: triples})]


@serialised
def register(
    store: Store,
    quads: Sequence[ox.Quad | ox.Triple],
    *,
    who: Identity,
    ident: str | None = None,
    create: bool = True,
    now: datetime | None = None,
    as_of: date | None = None,
    profiles: Sequence[str] | None = None,
) -> Registration:
    """Register (``create``) or update a product; validated, scoped, atomic.

    Raises BadInput (400), Forbidden (403), NotFound (404), Conflict (409) or
    RuleBroken (422, with the report).
    """
    now = now or clock.now()
    submission = split(quads)
    iri = product_iri(submission.description)
    derived = derive_id(submission.description, iri)
    if (
        ident is not None
        and ident != derived
        and any(
            t.subject == iri and t.predicate.value == DCT + "identifier"
            for t in submission.description
        )
    ):
        raise BadInput(f"the body's dct:identifier {derived!r} does not match the id {ident!r}")
    ident = ident or derived
    if not is_valid_id(ident):
        raise BadInput(f"not a valid product id: {ident!r}")
    record = get_record(store, ident)
    if create and record is not None and not record.withdrawn:
        raise Conflict(
            f"product {ident} is already registered: send it as a new version "
            f"(eti register FILE --update; over HTTP, PUT /api/products/{ident})"
        )
    if not create and (record is None or record.withdrawn):
        raise NotFound(f"no registered product {ident}")
    if record is not None and record.iri != iri.value:
        raise Conflict(f"the id {ident} belongs to <{record.iri}>")
    other = id_of_iri(store, iri)
    if other is not None and other != ident:
        raise Conflict(f"<{iri.value}> is already registered as product {other}")
    check_agents(store, [*submission.description, *submission.content])
    owners = orgnrs(store, submission.description, iri, DPROD + "dataProductOwner")
    publishers = orgnrs(store, submission.description, iri, DCT + "publisher")
    _check_scope(store, who, owners, publishers, record)
    version = (record.version + 1) if record else 1
    publisher = _publisher(submission.description, iri)
    snapshot = [*submission.description, *submission.content]
    changes = {
        product_graph(ident): submission.description,
        content_graph(ident): submission.content or None,
        history_graph(ident, version): snapshot,
        description_snapshot(ident, version): submission.description,
    }
    also = _record_ops(
        ident, iri, version, "COMPLETED", who, now, record.issued if record else None, publisher
    )
    outcome = commit(store, changes, as_of=as_of, also=also, history=True, profiles=profiles)
    return Registration(
        ident, iri.value, version, record is None or record.withdrawn, outcome.reports
    )


def raw_write_provenance(
    store: Store, changes: Mapping[str, Sequence | None], *, who: Identity
) -> tuple[dict[str, list[ox.Triple] | None], list[str]]:
    """The versions and record updates a raw write (Graph Store, SPARQL Update) of product
    graphs leaves, as a registration or withdrawal would: each product whose description
    or content it changes gets a new version attributed to ``who``."""
    now = clock.now()
    idents = sorted(
        {
            g.split(":", 4)[4]
            for g in changes
            if g.startswith(("urn:eti:graph:product:", "urn:eti:graph:content:"))
        }
    )
    versions: dict[str, list[ox.Triple] | None] = {}
    ops: list[str] = []
    for ident in idents:
        if not is_valid_id(ident):
            raise BadInput(f"not a valid product id in a graph name: {ident!r}")

        def now_of(graph: str) -> list[ox.Triple]:
            new = changes[graph] if graph in changes else store.triples(graph)
            return [_triple(t) for t in new or []]

        description = now_of(product_graph(ident))
        content = now_of(content_graph(ident))
        record = get_record(store, ident)
        version = (record.version + 1) if record else 1
        if not description:
            if content:
                raise BadInput(f"content without a product description ({ident})")
            if record is None or record.withdrawn:
                continue
            iri, status = ox.NamedNode(record.iri), "WITHDRAWN"
            publisher = ox.NamedNode(record.publisher) if record.publisher else None
        else:
            iri, status = product_iri(description), "COMPLETED"
            if record is not None and record.iri != iri.value:
                raise Conflict(f"the id {ident} belongs to <{record.iri}>")
            publisher = _publisher(description, iri)
            versions[history_graph(ident, version)] = [*description, *content]
            versions[description_snapshot(ident, version)] = description
        issued = record.issued if record else None
        ops += _record_ops(ident, iri, version, status, who, now, issued, publisher)
    return versions, ops


def _publisher(description: Sequence[ox.Triple], iri: ox.NamedNode) -> ox.NamedNode | None:
    return next(
        (
            t.object
            for t in description
            if t.subject == iri
            and t.predicate.value == DCT + "publisher"
            and isinstance(t.object, ox.NamedNode)
        ),
        None,
    )


@serialised
def withdraw(store: Store, ident: str, *, who: Identity, now: datetime | None = None) -> Record:
    """Take a product out of discovery; its history and record stay."""
    now = now or clock.now()
    record = get_record(store, ident)
    if record is None or record.withdrawn:
        raise NotFound(f"no registered product {ident}")
    if who.role != "admin":
        if who.role != "steward":
            raise Forbidden("only stewards (and admins) withdraw products")
        if (owner := owner_of(store, record)) != who.org:
            raise Forbidden(f"product {ident} belongs to organisation {owner or 'none'}")
    version = record.version + 1
    iri = ox.NamedNode(record.iri)
    publisher = ox.NamedNode(record.publisher) if record.publisher else None
    also = _record_ops(ident, iri, version, "WITHDRAWN", who, now, record.issued, publisher)
    commit(
        store,
        {
            product_graph(ident): None,
            content_graph(ident): None,
            history_graph(ident, version): None,
        },
        also=also,
        check=False,
        history=True,
    )
    return get_record(store, ident)  # type: ignore[return-value]


@serialised
def put_product(
    store: Store,
    ident: str,
    description: Sequence[ox.Triple],
    content: Sequence[ox.Triple],
    *,
    agent: str = DEMO_AGENT,
    now: datetime | None = None,
) -> ox.NamedNode:
    """Write a product without rule checks (the demo loader, restores)."""
    now = now or clock.now()
    iri = product_iri(description)
    record = get_record(store, ident)
    version = (record.version + 1) if record else 1
    publisher = _publisher(description, iri)
    who = Identity(role="admin", name="demo")
    also = _record_ops(
        ident, iri, version, "COMPLETED", who, now, record.issued if record else None, publisher
    )
    commit(
        store,
        {
            product_graph(ident): description,
            content_graph(ident): content or None,
            history_graph(ident, version): [*description, *content],
            description_snapshot(ident, version): description,
        },
        also=also,
        check=False,
        history=True,
    )
    return iri


@dataclass
class Version:
    """One version of a product, and what it changed."""

    version: int
    issued: str
    status: str
    agent: str | None
    added: list[ox.Triple]
    removed: list[ox.Triple]

    def to_json(self) -> dict[str, object]:
        """The version as the history answers give it (HTTP and ``eti history``)."""
        return {
            "version": self.version,
            "issued": self.issued,
            "status": self.status,
            "agent": self.agent,
            "added": [str(t) for t in self.added],
            "removed": [str(t) for t in self.removed],
        }


def history(store: Store, ident: str, *, with_content: bool = True) -> list[Version]:
    """Every version of a product, oldest first, with the triples each added and removed.

    Without ``with_content`` only the descriptions are compared: the content of a product
    without an open offer is for the holders of an agreement, also in its history."""
    rows = list(
        store.query(
            queries.load("product-versions"), bindings={"record": ox.NamedNode(record_iri(ident))}
        )
    )
    out: list[Version] = []
    previous: set[str] = set()
    previous_triples: dict[str, ox.Triple] = {}
    for row in sorted(rows, key=lambda r: int(r["version"].value)):
        n = int(row["version"].value)
        if with_content:
            triples = store.triples(history_graph(ident, n))
        else:
            triples = _description_of_version(store, ident, n)
        current = {_key(t): t for t in triples}
        added = [current[k] for k in sorted(set(current) - previous)]
        removed = [previous_triples[k] for k in sorted(previous - set(current))]
        out.append(
            Version(
                n,
                row["issued"].value,
                row["status"].value.rsplit("/", 1)[-1],
                row["agent"].value if row["agent"] is not None else None,
                added,
                removed,
            )
        )
        previous, previous_triples = set(current), current
    return out


def _description_of_version(store: Store, ident: str, version: int) -> list[ox.Triple]:
    """The description of one version: its own snapshot, or for a version written before
    descriptions were kept apart, the part of the whole snapshot the product reaches
    without passing through its content (a conservative guess: never content)."""
    kept = store.triples(description_snapshot(ident, version))
    if kept:
        return kept
    return description_part(store.triples(history_graph(ident, version)))


def description_part(triples: Sequence[ox.Triple]) -> list[ox.Triple]:
    """The triples about what the product reaches, never entering what a public service
    reaches, nor passing through ``eti:isAuthoritativeSourceFor``."""
    flat = split(triples)
    content_nodes = {t.subject for t in flat.content}
    by_subject: dict[object, list[ox.Triple]] = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)
    products = [
        t.subject
        for t in triples
        if t.predicate.value == TYPE and t.object == ox.NamedNode(DPROD + "DataProduct")
    ]
    seen: set = set()
    todo = list(products)
    while todo:
        node = todo.pop()
        if node in seen or node in content_nodes:
            continue
        seen.add(node)
        todo += [t.object for t in by_subject.get(node, []) if t.predicate.value != AUTHORITATIVE]
    return [t for t in triples if t.subject in seen]


def version_triples(store: Store, ident: str, version: int) -> list[ox.Triple]:
    """The description and content of one earlier version."""
    return store.triples(history_graph(ident, version))


def _key(t: ox.Triple) -> str:
    # Blank nodes get fresh labels on every write: compare them by their position.
    def term(x: object) -> str:
        return "_:b" if isinstance(x, ox.BlankNode) else str(x)

    return f"{term(t.subject)} {t.predicate} {term(t.object)}"


def register_agents(store: Store, quads: Sequence[ox.Quad | ox.Triple]) -> None:
    """Replace the agents graph (organisations and channels)."""
    commit(store, {AGENTS: [_triple(q) for q in quads]}, check=False)
