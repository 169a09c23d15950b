"""Per-caller views: every caller reads "read" plus one graph, at any catalogue size.

A steward reads the public view and its organisation's closed content and agreements; a
channel the content its agreements in force open (for the purpose it declares) and its
own agreements; an admin everything but the system graph. Listing those graphs to the
engine as the default graph costs a scan per graph (thousands of them at scale), and a
triple stated in two of them comes back twice. So each caller's extra graphs are kept
together in one view graph holding exactly (the union of its sources) minus "read":
``[read, view]`` is then the caller's whole dataset, each triple once.

Which graphs feed a view is the definition's business (``Catalogue.access`` works it
out, by date and purpose, as before); this module makes the view hold them. ``ensure``
reconciles a view with its sources when a caller reads (adding or removing whole
sources), and every write keeps the views true within its own transaction
(``graphs.replace_update``): the triples a source stops stating leave, new ones come in,
and what enters or leaves "read" leaves or re-enters the views. The sources of each view
are recorded in ``urn:eti:graph:views``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import pyoxigraph as ox

from . import queries
from .graphs import READ_VIEW, combine, feeds_views, insert_data, is_published, with_values
from .namespaces import READ, VIEW_PREFIX, VIEW_SOURCE, VIEWS
from .store import Store, bind_inline
from .writes import WRITE_LOCK

_SOURCE = ox.NamedNode(VIEW_SOURCE)
_MANY = 64  # more new sources than this: a big write, flushed at once (see ensure)


def name(key: str) -> str:
    """The graph of the view called ``key`` (e.g. ``org:889640782``)."""
    return VIEW_PREFIX + hashlib.sha256(key.encode()).hexdigest()[:32]


def sources(store: Store, view: str) -> set[str]:
    """The graphs that feed ``view`` now."""
    rows = store.query(queries.load("view-sources"), bindings={"v": ox.NamedNode(view)})
    return {row["g"].value for row in rows}


def in_read(graph: str, opened: Iterable[str] = ()) -> bool:
    """True for graphs every triple of which "read" holds by construction (the write path
    keeps it so in the same transaction): its own sources, every product-description graph
    (through "public") and the content of every product with an open offer (through
    "open", given as ``opened``). A view never needs them as sources: at 10,000 products
    they are two thirds of the store, and scanning them only to find every triple already
    in "read" was most of an admin's first read."""
    return graph == READ or graph in READ_VIEW or is_published(graph) or graph in opened


def ensure(store: Store, key: str, wanted: Iterable[str], opened: Iterable[str] = ()) -> str:
    """Make the view ``key`` hold (the union of ``wanted``) minus "read"; returns its graph.
    ``opened``: the content graphs "read" holds now (see ``in_read``).

    Only the sources that differ from the view's recorded ones are moved, in one update:
    the graphs that no longer feed it are staged and what no remaining source states
    leaves; the new sources' triples come in."""
    view = name(key)
    opened = frozenset(opened)
    want = {g for g in wanted if g and feeds_views(g) and not in_read(g, opened)}
    if sources(store, view) == want:
        return view
    with WRITE_LOCK:
        have = sources(store, view)
        gone, new = sorted(have - want), sorted(want - have)
        if not gone and not new:
            return view
        v = ox.NamedNode(view)
        # the new sources' triples first, read from the committed store (views-fill.rq);
        # only the new ones: a view's other sources are kept true by every write
        ops = [_fill(v, new)] if new else []
        ops += [bind_inline(queries.load("stage-graph"), {"g": ox.NamedNode(g)}) for g in gone]
        if gone:
            body = " ".join(f"{v} {_SOURCE} {ox.NamedNode(g)} ." for g in gone)
            ops.append(f"DELETE DATA {{ GRAPH <{VIEWS}> {{ {body} }} }}")
        ops.append(insert_data({VIEWS: [ox.Triple(v, _SOURCE, ox.NamedNode(g)) for g in new]}))
        if gone:
            ops.append(bind_inline(queries.load("views-prune"), {"v": v}))
            ops.append(queries.load("drop-staged"))
        # derived graphs alone: the generation stays (no one's answers or rights change)
        store.update_derived(combine(ops))
        if len(new) > _MANY:
            # a big write: flushed now, the query workers that reopen the store next do
            # not replay it from the log (an admin's first query after its view's build at
            # 10,000 products ran into the 10 s limit doing that)
            store.flush()
    return view


def _fill(view: ox.NamedNode, sources: Iterable[str]) -> str:
    """The ``views-fill`` operation for ``view`` over ``sources``."""
    text = bind_inline(queries.load("views-fill"), {"v": view})
    return with_values(text, "?g", (str(ox.NamedNode(g)) for g in sources))


def reset(store: Store) -> None:
    """Forget every view (each is built again when its caller next reads)."""
    store.update(queries.load("views-reset"))
