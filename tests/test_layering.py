"""The house's layering, read from the import graph (grimp, function-level imports
included): no import cycles, the domain never imports the HTTP face or Flask, the store
imports no domain module, and no module grows past 650 lines (issue 21, item 3).

The allow-lists below only shrink: an entry that is no longer needed fails the test until
it is removed, so a fixed cycle or split module cannot come back unnoticed."""

from __future__ import annotations

import re
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("eti.catalogue", "eti.client", "eti.server")
MAX_LINES = 650

# Import edges that close a cycle today, each to be removed by another branch of
# issue 21 (the lead deletes the entry when it merges that branch).
CYCLES_BEING_FIXED = {}

# What the store module(s) may import of the catalogue: leaves that know nothing of
# products, agreements, rules or callers. (config is not one: it imports oidc, which
# imports auth, which uses the store; a store engine takes its settings as arguments.)
STORE_MAY_IMPORT = {
    "eti.catalogue.clock",  # the catalogue's one clock
    "eti.catalogue.media",  # the one table of RDF and result media types
    "eti.catalogue.namespaces",  # graph names and prefixes
    "eti.catalogue.rdfio",  # RDF formats, reading and writing files
    "eti.catalogue.remote",  # how an HTTP answer is told (a remote store's refusal)
}
# Domain modules the store imports today, to be cut by scaleout (issue 21 §3).
STORE_IMPORTS_BEING_CUT = {}

# Modules over MAX_LINES today, with their length now: each may shrink, none may grow,
# and the entry goes when the module is split (issue 21 §4).
TOO_LONG: dict[str, tuple[int, str]] = {}


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    # imports under ``if TYPE_CHECKING:`` never run: they name types for annotations only
    return grimp.build_graph(
        *PACKAGES,
        include_external_packages=True,
        exclude_type_checking_imports=True,
        cache_dir=None,
    )


def ours(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    """The import edges between the project's own modules."""
    modules = {m for m in graph.modules if m.startswith(PACKAGES)}
    return {m: graph.find_modules_directly_imported_by(m) & modules for m in modules}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles(graph) -> None:
    edges = ours(graph)
    for (importer, imported), who in CYCLES_BEING_FIXED.items():
        still = imported in edges[importer] and graph.chain_exists(imported, importer)
        assert still, f"{importer} -> {imported} no longer closes a cycle ({who}): remove it"
        edges[importer].discard(imported)
    assert cycles(edges) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("forbidden", ["eti.server", "flask", "werkzeug"])
def test_the_catalogue_never_imports_the_http_face(graph, forbidden) -> None:
    for package in ("eti.catalogue", "eti.client"):
        chain = graph.find_shortest_chain(package, forbidden, as_packages=True)
        assert chain is None, f"{package} reaches {forbidden}: {' -> '.join(chain)}"


def test_the_client_stands_alone(graph) -> None:
    """eti.client ships to integrators: of the catalogue it uses the names alone."""
    client = {m for m in graph.modules if m == "eti.client" or m.startswith("eti.client.")}
    used = set().union(*(graph.find_modules_directly_imported_by(m) for m in client))
    assert {m for m in used if m.startswith("eti.catalogue")} <= {"eti.catalogue.namespaces"}


def test_the_store_imports_no_domain_module(graph) -> None:
    store = {
        m
        for m in graph.modules
        if m == "eti.catalogue.store"
        or m.startswith(("eti.catalogue.store.", "eti.catalogue.stores"))
    }
    assert store
    reached: set[str] = set()
    todo = list(store)
    while todo:  # what the store reaches, through the leaves it may import
        module = todo.pop()
        for imported in graph.find_modules_directly_imported_by(module):
            if imported in STORE_IMPORTS_BEING_CUT and module in store:
                continue
            if imported.startswith("eti.catalogue") and imported not in reached | store:
                reached.add(imported)
                todo.append(imported)
    assert reached <= STORE_MAY_IMPORT, sorted(reached - STORE_MAY_IMPORT)
    direct = set().union(*(graph.find_modules_directly_imported_by(m) for m in store))
    for module, who in STORE_IMPORTS_BEING_CUT.items():
        assert module in direct, f"the store no longer imports {module} ({who}): remove it"


def test_no_module_grows_past_650_lines() -> None:
    lengths = {
        str(path.relative_to(ROOT)): len(path.read_text("utf-8").splitlines())
        for folder in ("catalogue", "server")
        for path in (ROOT / folder).rglob("*.py")
    }
    for name, (ceiling, who) in TOO_LONG.items():
        assert lengths.get(name, 0) > MAX_LINES, f"{name} is short now ({who}): remove it"
        assert lengths[name] <= ceiling, f"{name} grew to {lengths[name]} lines ({who})"
    long = sorted(name for name, n in lengths.items() if n > MAX_LINES and name not in TOO_LONG)
    assert long == [], f"over {MAX_LINES} lines: split into rooms of one purpose"


def test_the_architecture_page_names_rooms_that_exist() -> None:
    """docs/architecture.md sends a newcomer to rooms by path: each one it names exists
    (a room moved or renamed without the page following fails here)."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    paths = set(re.findall(r"`((?:catalogue|server|tests|shapes|ontology)/[\w./<>*-]+)`", text))
    checked = [p for p in paths if "<" not in p and "*" not in p]
    assert len(checked) >= 10, checked
    missing = sorted(p for p in checked if not (ROOT / p.rstrip("/")).exists())
    assert not missing, f"docs/architecture.md names rooms that do not exist: {missing}"
    for module in ("search_page", "product_page", "steward", "lean", "front", "errors"):
        assert (ROOT / "server" / f"{module}.py").exists(), module
