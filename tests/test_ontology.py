"""The ETI ontology and the controlled vocabularies shipped with it.

Covers ``ontology/eti.ttl`` and ``ontology/vocabularies/*.ttl`` (read through
``importlib.resources`` from the installed ``eti.ontology`` package), and a scan
of the whole repository proving that no term of the ETI namespace is used
without being defined in the ontology.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

ETI_NS = "https://w3id.org/eti#"
ETI = Namespace(ETI_NS)
ONTOLOGY_IRI = URIRef("https://w3id.org/eti")
ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
PROV = Namespace("http://www.w3.org/ns/prov#")
DPV = Namespace("https://w3id.org/dpv#")
EU = "http://publications.europa.eu/resource/authority/"
LOS = "https://psi.norge.no/los/"
LANGS = ("nb", "nn", "en")

REPO = Path(__file__).resolve().parents[1]
CONFORMANCE = REPO.parent / "shared" / "conformance"

# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def ontology_resource() -> Traversable:
    return files("eti.ontology") / "eti.ttl"


def vocabulary_resources() -> list[Traversable]:
    folder = files("eti.ontology") / "vocabularies"
    return sorted((r for r in folder.iterdir() if r.name.endswith(".ttl")), key=lambda r: r.name)


VOCABULARY_NAMES = [r.name for r in vocabulary_resources()]


def parse(resource: Traversable) -> Graph:
    return Graph().parse(data=resource.read_text(encoding="utf-8"), format="turtle")


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return parse(ontology_resource())


def vocabulary(name: str) -> Graph:
    return parse(files("eti.ontology") / "vocabularies" / name)


def defined_eti_terms(graph: Graph) -> set[str]:
    """Local names of the ETI-namespace IRIs that eti.ttl gives a type."""
    return {
        str(s)[len(ETI_NS) :]
        for s in graph.subjects(RDF.type, None)
        if isinstance(s, URIRef) and str(s).startswith(ETI_NS) and len(str(s)) > len(ETI_NS)
    }


def labels(graph: Graph, subject: URIRef, *predicates: URIRef) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for predicate in predicates:
        for value in graph.objects(subject, predicate):
            if isinstance(value, Literal) and value.language:
                out.setdefault(value.language, []).append(str(value))
    return out


# ---------------------------------------------------------------------------
# The ontology
# ---------------------------------------------------------------------------


def architecture_terms() -> set[str]:
    """The ETI terms listed in docs/model.md, section "ETI terms"."""
    text = (REPO / "docs" / "model.md").read_text(encoding="utf-8")
    match = re.search(r"^## ETI terms.*?(?=^## )", text, flags=re.S | re.M)
    assert match, "docs/model.md has no 'ETI terms' section"
    return set(re.findall(r"`eti:([A-Za-z_][\w-]*)`", match.group(0)))


def test_both_rdf_engines_parse_every_file() -> None:
    for resource in [ontology_resource(), *vocabulary_resources()]:
        data = resource.read_bytes()
        assert len(Graph().parse(data=data, format="turtle")) > 0, resource.name
        assert list(pyoxigraph.parse(data, format=pyoxigraph.RdfFormat.TURTLE)), resource.name


def test_ontology_header(ontology: Graph) -> None:
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in ontology
    assert ontology.value(ONTOLOGY_IRI, OWL.versionInfo) == Literal("0.1.0")
    assert ontology.value(ONTOLOGY_IRI, OWL.versionIRI) == URIRef("https://w3id.org/eti/0.1.0")
    assert ontology.value(ONTOLOGY_IRI, DCTERMS.license) == URIRef(
        "https://www.apache.org/licenses/LICENSE-2.0"
    )
    titles = labels(ontology, ONTOLOGY_IRI, DCTERMS.title)
    assert all(len(titles.get(lang, [])) == 1 for lang in LANGS), titles
    assert not list(ontology.objects(None, OWL.imports)), "no owl:imports (no network)"


def test_ontology_defines_exactly_the_terms_of_the_architecture_table(ontology: Graph) -> None:
    expected = architecture_terms()
    assert expected >= {"InformationChannel", "AgreementStatusScheme", "refresh", "expired"}
    assert defined_eti_terms(ontology) == expected


def test_every_eti_term_has_trilingual_labels_and_a_definition(ontology: Graph) -> None:
    for name in sorted(defined_eti_terms(ontology)):
        term = ETI[name]
        names = labels(ontology, term, RDFS.label, SKOS.prefLabel)
        for lang in LANGS:
            assert names.get(lang), f"eti term {name} has no {lang} label"
        for predicate in (RDFS.label, SKOS.prefLabel):
            per_lang = labels(ontology, term, predicate)
            assert all(len(v) == 1 for v in per_lang.values()), f"{name}: two labels in a language"
        definitions = labels(ontology, term, SKOS.definition)
        for lang in ("nb", "en"):
            assert definitions.get(lang), f"eti term {name} has no {lang} definition"
        assert (term, RDFS.isDefinedBy, ONTOLOGY_IRI) in ontology, name


def test_ontology_reuses_standards(ontology: Graph) -> None:
    assert (ETI.InformationChannel, RDFS.subClassOf, PROV.Agent) in ontology
    assert (ETI.OpenOffer, RDFS.subClassOf, ODRL.Offer) in ontology
    assert (ETI.refresh, RDF.type, ODRL.Action) in ontology
    assert (ETI.hasInformationNeed, RDFS.domain, ETI.InformationChannel) in ontology
    assert (ETI.hasInformationNeed, RDFS.range, ETI.InformationNeed) in ontology
    assert (
        ETI.isAuthoritativeSourceFor,
        RDFS.range,
        URIRef("http://purl.org/vocab/cpsv#PublicService"),
    ) in ontology


def test_agreement_status_scheme(ontology: Graph) -> None:
    scheme = ETI.AgreementStatusScheme
    assert (scheme, RDF.type, SKOS.ConceptScheme) in ontology
    members = set(ontology.subjects(SKOS.inScheme, scheme))
    assert members == {ETI[n] for n in ("requested", "active", "refused", "terminated", "expired")}
    for concept in members:
        assert (concept, RDF.type, SKOS.Concept) in ontology
        assert (concept, SKOS.topConceptOf, scheme) in ontology


# ---------------------------------------------------------------------------
# The vocabularies
# ---------------------------------------------------------------------------


def concepts(graph: Graph) -> set[URIRef]:
    return {s for s in graph.subjects(RDF.type, SKOS.Concept) if isinstance(s, URIRef)}


def codes(graph: Graph, scheme: str) -> set[str]:
    prefix = EU + scheme + "/"
    return {str(c)[len(prefix) :] for c in concepts(graph) if str(c).startswith(prefix)}


def test_the_expected_vocabulary_files_are_shipped() -> None:
    assert set(VOCABULARY_NAMES) >= {
        "eu-data-theme.ttl",
        "eu-frequency.ttl",
        "eu-access-right.ttl",
        "eu-language.ttl",
        "eu-file-type.ttl",
        "eu-licence.ttl",
        "eu-distribution-status.ttl",
        "los-alvorlig-sykt-barn.ttl",
        "dpv-purposes.ttl",
    }


@pytest.mark.parametrize("name", VOCABULARY_NAMES)
def test_every_concept_is_in_a_declared_scheme_with_trilingual_labels(name: str) -> None:
    graph = vocabulary(name)
    found = concepts(graph)
    assert found, f"{name} has no skos:Concept"
    for concept in found:
        schemes = set(graph.objects(concept, SKOS.inScheme))
        assert schemes, f"{concept} has no skos:inScheme"
        for scheme in schemes:
            assert (scheme, RDF.type, SKOS.ConceptScheme) in graph, f"{scheme} not declared"
        names = labels(graph, concept, SKOS.prefLabel)
        for lang in LANGS:
            assert len(names.get(lang, [])) == 1, f"{concept}: {lang} prefLabel {names}"
    for scheme in graph.subjects(RDF.type, SKOS.ConceptScheme):
        assert graph.value(scheme, DCTERMS.source), f"{scheme} has no dct:source"
        assert all(labels(graph, scheme, SKOS.prefLabel).get(lang) for lang in LANGS), scheme


def test_no_vocabulary_defines_eti_terms() -> None:
    for name in VOCABULARY_NAMES:
        graph = vocabulary(name)
        assert not [s for s in graph.subjects() if str(s).startswith(ETI_NS)], name


def test_eu_vocabularies_hold_the_codes_the_platform_uses() -> None:
    assert codes(vocabulary("eu-data-theme.ttl"), "data-theme") == set(
        "AGRI ECON EDUC ENER ENVI GOVE HEAL INTR JUST REGI SOCI TECH TRAN".split()
    )
    assert codes(vocabulary("eu-frequency.ttl"), "frequency") >= set(
        "DAILY WEEKLY MONTHLY QUARTERLY ANNUAL IRREG CONT UPDATE_CONT BIENNIAL NEVER "
        "UNKNOWN".split()
    )
    assert codes(vocabulary("eu-access-right.ttl"), "access-right") == {
        "PUBLIC",
        "RESTRICTED",
        "NON_PUBLIC",
    }
    assert codes(vocabulary("eu-language.ttl"), "language") >= {"NOR", "NOB", "NNO", "ENG", "SMI"}
    assert codes(vocabulary("eu-file-type.ttl"), "file-type") >= set(
        "RDF_TURTLE RDF_XML JSON_LD RDF_N_TRIPLES RDF_N_QUADS RDF_TRIG JSON CSV XML HTML PDF "
        "SPARQLQ".split()
    )
    assert codes(vocabulary("eu-licence.ttl"), "licence") >= {"CC_BY_4_0", "CC0", "NLOD_2_0"}
    assert codes(vocabulary("eu-distribution-status.ttl"), "distribution-status") == {
        "DEVELOP",
        "COMPLETED",
        "DEPRECATED",
        "WITHDRAWN",
    }


def test_file_types_carry_their_media_type() -> None:
    graph = vocabulary("eu-file-type.ttl")
    turtle = URIRef(EU + "file-type/RDF_TURTLE")
    assert {str(n) for n in graph.objects(turtle, SKOS.notation)} == {"text/turtle"}
    for concept in concepts(graph):
        assert graph.value(concept, SKOS.notation), concept


def test_los_life_event_and_its_words() -> None:
    graph = vocabulary("los-alvorlig-sykt-barn.ttl")
    event = URIRef(LOS + "hendelse/alvorlig-sykt-barn")
    assert (event, SKOS.inScheme, URIRef(LOS + "ontologi/hendelse")) in graph
    assert labels(graph, event, SKOS.prefLabel)["nb"] == ["Å ha et alvorlig sykt barn"]
    assert "*" not in labels(graph, event, SKOS.prefLabel)["en"]
    assert labels(graph, event, RDFS.comment).get("en"), "say where the English label comes from"
    defined = concepts(graph)
    words = [w for w in graph.objects(event, SKOS.related) if w in defined]
    assert len(words) >= 30
    themes = {t for t in defined if str(t).startswith(LOS + "tema/")}
    for word in words:
        assert str(word).startswith(LOS + "ord/")
        assert (word, SKOS.inScheme, URIRef(LOS + "ontologi/ord")) in graph
        broader = set(graph.objects(word, SKOS.broader))
        assert broader and broader <= themes, word
    for theme in themes:  # every theme reaches a top theme inside the file
        current, seen = theme, {theme}
        while parents := set(graph.objects(current, SKOS.broader)):
            assert parents <= themes, current
            current = sorted(parents)[0]
            assert current not in seen, f"broader cycle at {current}"
            seen.add(current)
        assert graph.value(current, SKOS.topConceptOf), f"{theme} reaches no top theme"


def test_dpv_purposes_and_legal_bases() -> None:
    graph = vocabulary("dpv-purposes.ttl")
    purposes = set(graph.subjects(SKOS.inScheme, DPV["purposes-classes"]))
    assert purposes >= {
        DPV[n]
        for n in (
            "ServiceProvision",
            "PublicBenefit",
            "ProvidePersonalisedRecommendations",
            "CommunicationManagement",
            "ResearchAndDevelopment",
        )
    }
    bases = set(graph.subjects(SKOS.inScheme, DPV["legal-basis-classes"]))
    assert bases >= {
        DPV[n] for n in ("LegalObligation", "PublicInterest", "OfficialAuthorityOfController")
    }
    for concept in purposes | bases:  # every broader link stays inside the file
        for parent in graph.objects(concept, SKOS.broader):
            assert parent in purposes | bases, (concept, parent)
        assert labels(graph, concept, SKOS.definition).keys() >= {"nb", "en"}, concept


# ---------------------------------------------------------------------------
# Checks against the public originals (skipped in a clone without ../shared)
# ---------------------------------------------------------------------------

needs_conformance = pytest.mark.skipif(
    not CONFORMANCE.is_dir(), reason="../shared/conformance is not present"
)


@needs_conformance
@pytest.mark.parametrize(
    ("name", "original", "langs"),
    [
        ("eu-data-theme.ttl", "data-theme-sparql-result.ttl", LANGS),
        ("eu-frequency.ttl", "frequencies-sparql-result.ttl", LANGS),
        ("eu-distribution-status.ttl", "distribution-status-sparql-result.ttl", LANGS),
        ("eu-access-right.ttl", "access-right-sparql-result.ttl", ("en",)),
        ("eu-licence.ttl", "licences-sparql-result.ttl", ("en",)),
        ("eu-language.ttl", "language-sparql-result.ttl", ("en",)),
    ],
)
def test_eu_labels_match_data_norge_no(name: str, original: str, langs: tuple[str, ...]) -> None:
    ours = vocabulary(name)
    theirs = Graph().parse(CONFORMANCE / "los" / original)
    for concept in concepts(ours):
        official = labels(theirs, concept, SKOS.prefLabel)
        if not official and name == "eu-language.ttl":
            continue  # data.norge.no lists only three languages
        assert official, f"{concept} is not in {original}"
        for lang in langs:
            assert labels(ours, concept, SKOS.prefLabel)[lang][0] in official[lang], (concept, lang)


@needs_conformance
def test_file_type_codes_and_media_types_match_the_eu_list() -> None:
    theirs = (CONFORMANCE / "los" / "filetypes-sparql-result.ttl").read_text(encoding="utf-8")
    ours = vocabulary("eu-file-type.ttl")
    for concept in concepts(ours):
        code = str(concept).rsplit("/", 1)[1]
        assert f'"{code}"' in theirs, code
        for media_type in ours.objects(concept, SKOS.notation):
            assert f'"{media_type}"' in theirs, (code, media_type)


@needs_conformance
def test_los_labels_and_links_match_los() -> None:
    ours = vocabulary("los-alvorlig-sykt-barn.ttl")
    los = Graph().parse(CONFORMANCE / "los" / "los.rdf", format="xml")
    event = URIRef(LOS + "hendelse/alvorlig-sykt-barn")
    assert set(ours.objects(event, SKOS.related)) == set(los.objects(event, SKOS.related))
    for concept in concepts(ours):
        assert (concept, RDF.type, SKOS.Concept) in los, concept
        for lang in LANGS:
            if concept == event and lang == "en":
                continue  # Los has "*" here; ours is documented in an rdfs:comment
            assert (
                labels(ours, concept, SKOS.prefLabel)[lang]
                == labels(los, concept, SKOS.prefLabel)[lang]
            ), (concept, lang)
        for predicate in (SKOS.broader, SKOS.related, SKOS.inScheme):
            assert set(ours.objects(concept, predicate)) <= set(los.objects(concept, predicate))


# ---------------------------------------------------------------------------
# No undefined ETI term anywhere in the repository
# ---------------------------------------------------------------------------

SCANNED_SUFFIXES = {".ttl", ".trig", ".rq", ".py", ".md"}
EXCLUDED_DIRS = {".venv", "build", "var", ".git", "__pycache__", ".pytest_cache", ".ruff_cache"}
_NAME = r"[A-Za-z_][\w-]*"
_BEFORE = r"(?<![\w:/#.-])"  # not inside a longer token such as urn:eti:graph:...
FULL_IRI = re.compile(r"https?://w3id\.org/" + "eti#" + f"({_NAME})")
PREFIX_DECLARATION = re.compile(
    r"(?i)(?:@prefix|\bprefix)\s+([A-Za-z][\w.-]*)?:\s*<https?://w3id\.org/" + r"eti#>"
)


def iter_scanned_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part in EXCLUDED_DIRS or part.endswith(".egg-info") for part in relative.parts):
            continue
        if path.suffix in SCANNED_SUFFIXES and path.is_file():
            yield path


_NAMESPACE_VALUES = (ETI_NS, ETI_NS.replace("https", "http", 1))
_STR_ATTRIBUTES = set(dir(Namespace(ETI_NS)))  # str and Namespace methods, not terms


def _is_eti_namespace(value: ast.expr | None) -> bool:
    """``"https://w3id.org/eti#"`` itself, or a call on it (``Namespace(...)``, ``URIRef(...)``)."""
    if isinstance(value, ast.Constant):
        return value.value in _NAMESPACE_VALUES
    if isinstance(value, ast.Call) and value.args:
        return _is_eti_namespace(value.args[0])
    return False


def _python_bound_names(tree: ast.AST) -> set[str]:
    """Names assigned the ETI namespace (a string or an rdflib Namespace) in a module."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and _is_eti_namespace(node.value):
            bound |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and _is_eti_namespace(node.value):
            if isinstance(node.target, ast.Name):
                bound.add(node.target.id)
    return bound


def _python_terms(tree: ast.AST, exported: set[str]) -> set[str]:
    """Terms a module reaches through a name bound to the ETI namespace.

    ``NS.term``, ``NS["term"]``, ``NS + "term"`` and ``f"{NS}term"``, where ``NS`` is
    assigned in the module or imported under a name some scanned module assigns.
    """
    bound = _python_bound_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            bound |= {a.asname or a.name for a in node.names if a.name in exported}
    if not bound:
        return set()

    def is_bound(expr: ast.expr) -> bool:
        return isinstance(expr, ast.Name) and expr.id in bound

    def leading_name(value: object) -> str | None:
        match = re.match(_NAME, value) if isinstance(value, str) else None
        return match.group(0) if match else None

    found: set[str | None] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_bound(node.value):
            if node.attr not in _STR_ATTRIBUTES:
                found.add(node.attr)
        elif isinstance(node, ast.Subscript) and is_bound(node.value):
            if isinstance(node.slice, ast.Constant):
                found.add(leading_name(node.slice.value))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and is_bound(node.left):
            if isinstance(node.right, ast.Constant):
                found.add(leading_name(node.right.value))
        elif isinstance(node, ast.JoinedStr):
            for part, following in zip(node.values, node.values[1:], strict=False):
                if (
                    isinstance(part, ast.FormattedValue)
                    and is_bound(part.value)
                    and isinstance(following, ast.Constant)
                ):
                    found.add(leading_name(following.value))
    return {name for name in found if name}


# OAuth2 scope names (the identity settings' defaults, granted in Maskinporten), spelled
# like CURIEs but never RDF terms: not counted as uses of the ontology
OAUTH_SCOPES = {"eti:admin", "eti:channel", "eti:steward"}


def eti_terms_in_text(text: str) -> set[str]:
    """Local names of ETI terms a file's text names as CURIEs or full IRIs."""
    found = set(FULL_IRI.findall(text))
    aliases = {"eti"} | {m or "" for m in PREFIX_DECLARATION.findall(text)}
    for alias in aliases:
        for match in re.finditer(_BEFORE + re.escape(alias) + f":({_NAME})", text):
            if match.group(0) not in OAUTH_SCOPES:
                found.add(match.group(1))
    return found


def eti_terms_used(root: Path) -> dict[str, set[Path]]:
    """Every ETI term used under ``root``, with the files that use it."""
    texts = {
        path: path.read_text(encoding="utf-8", errors="replace")
        for path in iter_scanned_files(root)
    }
    trees: dict[Path, ast.AST] = {}
    for path, text in texts.items():
        if path.suffix == ".py":
            try:
                trees[path] = ast.parse(text)
            except SyntaxError:
                pass  # a file being edited; its CURIEs and IRIs are still scanned
    exported = set().union(*(_python_bound_names(tree) for tree in trees.values()))
    used: dict[str, set[Path]] = {}
    for path, text in texts.items():
        names = eti_terms_in_text(text)
        if path in trees:
            names |= _python_terms(trees[path], exported)
        for name in names:
            used.setdefault(name, set()).add(path.relative_to(root))
    return used


def undefined_eti_terms(root: Path, defined: set[str]) -> dict[str, set[Path]]:
    return {name: paths for name, paths in eti_terms_used(root).items() if name not in defined}


@pytest.mark.slow
def test_no_undefined_eti_term_is_used_in_the_repository(ontology: Graph) -> None:
    defined = defined_eti_terms(ontology)
    used = eti_terms_used(REPO)
    assert used, "the scan found no ETI term at all: it is looking in the wrong place"
    undefined = {name: sorted(map(str, p)) for name, p in used.items() if name not in defined}
    assert not undefined, f"ETI terms used but not defined in ontology/eti.ttl: {undefined}"


def test_the_scanner_catches_planted_undefined_terms(tmp_path: Path, ontology: Graph) -> None:
    defined = defined_eti_terms(ontology)
    p = "eti"  # built up so that this file itself never holds an undefined term
    iri = "https://w3id.org/" + p + "#"
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.md").write_text(
        f"Channels use `{p}:Undefined` and `{p}:InformationChannel`; graphs are urn:{p}:graph:x.\n"
    )
    (tmp_path / "data.ttl").write_text(f"<x:a> a <{iri}PlantedClass> .\n")
    (tmp_path / "query.rq").write_text(
        f"PREFIX e: <{iri}>\nSELECT * {{ ?a e:aliasedTerm ?b ; a e:OpenOffer }}\n"
    )
    (tmp_path / "code.py").write_text(
        f'from rdflib import Namespace\nNS = Namespace("{iri}")\nBASE = "{iri}"\n'
        'X = NS.pythonTerm\nY = NS["itemTerm"]\nZ = NS.active\nW = NS.startswith("a")\n'
        'V = BASE + "concatTerm"\nU = f"{BASE}fstringTerm"\nT = BASE + "refused"\n'
    )
    (tmp_path / "other.py").write_text('from code import BASE as B\nS = B + "importedTerm"\n')
    (tmp_path / "plain.txt").write_text(f"{p}:NotScannedSuffix\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "ignored.py").write_text(f"# {p}:InsideVenv\n")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "ignored.ttl").write_text(f"<x:a> a <{iri}InsideBuild> .\n")

    undefined = undefined_eti_terms(tmp_path, defined)
    assert set(undefined) == {
        "Undefined",
        "PlantedClass",
        "aliasedTerm",
        "pythonTerm",
        "itemTerm",
        "concatTerm",
        "fstringTerm",
        "importedTerm",
    }
    assert undefined["Undefined"] == {Path("docs/notes.md")}
    assert undefined["aliasedTerm"] == {Path("query.rq")}
    # and the scan of the real repository would fail on such a file
    assert set(eti_terms_used(tmp_path)) >= {"InformationChannel", "OpenOffer", "active", "refused"}
