"""Validate RDF against the catalogue's SHACL profiles.

One core function, :func:`validate`, serves every front (``eti validate``,
``POST /api/validate``, the store's checks on write)::

    report = validate(graph, ["dcat-ap-no"], as_of=date(2026, 11, 22), context=agents)
    report.conforms          # no sh:Violation
    report.graph             # the sh:ValidationReport (rdflib.Graph)
    report.results           # list[Result], grouped and sorted for reading
    report.quality           # metadata-quality score per dataset / data product
    report.text("nb")        # terminal text; report.to_json(); report.to_junit()

Profiles (one shapes file each in ``shapes/``):

``dcat-ap-no``
    DCAT-AP-NO 2.2 for catalogs, datasets, data services, distributions,
    agents and contact points, with the DCAT-AP-NO 3 draft's contact-point
    rules as warnings.
``dprod``
    data products (DPROD + DCAT 3).
``agreements``
    ODRL offers and agreements with DPV purposes.
``eti``
    the platform's shared rules (nb + nn texts, one authoritative source per
    information item, freshness).

How the data is prepared (the pitfalls this module handles):

* The data graph is copied; an ``rdflib.Dataset`` is validated as the union
  of its graphs. The caller's ``context`` graph (agents, the products an
  agreement refers to, ...) is added to the copy so that references can be
  checked, but results about resources that only the context describes are
  dropped: validating one product costs the product plus its small context,
  never the whole catalogue.
* Controlled-vocabulary checks look for ``skos:inScheme`` in the *data*
  graph (pySHACL 0.40 does not consult ``ont_graph`` for them), so the
  vocabulary triples (``rdf:type``, ``skos:inScheme``) of every IRI the data
  refers to are merged into the copy from ``ontology/vocabularies/*.ttl``,
  together with the ``rdfs:subClassOf`` axioms of ``ontology/eti.ttl``.
* pySHACL runs with ``inference="none"`` and ``advanced=True``.

Engines: pySHACL is the reference. When pyshacl-turbo (a Rust SHACL engine
with pySHACL's API) is installed, inputs of at least :data:`TURBO_MIN_TRIPLES`
data triples (every input, by default: registrations, whole catalogues,
harvests) are validated with it instead, with the same shapes, data and options; its report goes
through the same reading as pySHACL's, and tests/test_turbo.py checks that
the two reports are identical (same results, focus nodes, paths, values,
source shapes, severities, messages) on the demo catalogue, a generated one
with broken rules and every case of tests/shapes_cases. ``engine=`` (or the
``ETI_VALIDATION_ENGINE`` environment variable) chooses: ``"pyshacl"``,
``"turbo"``, or ``"auto"`` (the default). turbo runs every construct the
shapes use (SPARQL-based constraints with ``sh:prefixes``, ``sh:node``,
``sh:or``, qualified value shapes, ``sh:deactivated``, ...) as pySHACL does,
with one exception found: ``sh:lessThanOrEquals`` on values that cannot be
compared (an invalid date), which turbo reports and pySHACL does not; data
with such a pair is validated with pySHACL whatever the engine asked for
(``Report.engine`` says which ran). When turbo fails (an error instead of a
report), ``"auto"`` falls back to pySHACL.

Rules that depend on the date (freshness, agreement status against the
validity period) cannot be given that date through standard SHACL, and SPARQL
date arithmetic on arbitrary literals is not reliable (rdflib fails on an
ill-typed date), so they are declared as deactivated shapes (``Freshness`` in
shapes/eti.ttl, ``AgreementStatusDates`` in shapes/agreements.ttl) that
document the rule, and evaluated here in Python against ``as_of`` (default:
today). Their results are ordinary ``sh:ValidationResult`` nodes of
the report, with ``sh:sourceShape`` the declared shape and
``sh:sourceConstraintComponent`` :data:`AS_OF_COMPONENT`.

Freshness: a product or dataset with ``dct:accrualPeriodicity`` and
``dct:modified`` is stale when ``modified + period + grace < as_of``; the
grace is half the period, at least 7 days (:data:`GRACE_MIN_DAYS`).
"""

from __future__ import annotations

from rdflib.namespace import SKOS

from .core import STAGES, _triples, quiet_ill_typed_literals, validate
from .dates import AS_OF_COMPONENT, FREQUENCY_DAYS, GRACE_MIN_DAYS, freshness_deadline
from .engines import (
    ENGINE_VARIABLE,
    ENGINES,
    TURBO_MIN_TRIPLES,
    _run_turbo,
    _turbo_differs,
    turbo_available,
)
from .model import Report, Result, exit_code
from .reading import UNCHECKED
from .shapes import shapes_graph, vocabulary_graph
from .terms import _DCAT, _SEVERITY_RANK, PROFILES, SEVERITIES, SHAPES_BASE, _local

__all__ = [
    "AS_OF_COMPONENT",
    "ENGINES",
    "FREQUENCY_DAYS",
    "GRACE_MIN_DAYS",
    "PROFILES",
    "SEVERITIES",
    "TURBO_MIN_TRIPLES",
    "Report",
    "Result",
    "exit_code",
    "freshness_deadline",
    "quiet_ill_typed_literals",
    "shapes_graph",
    "turbo_available",
    "validate",
    "vocabulary_graph",
]

__all__ += ["ENGINE_VARIABLE", "SHAPES_BASE", "STAGES", "UNCHECKED"]

# names the tests and benches read from the package
_reexported = (SKOS, _DCAT, _SEVERITY_RANK, _local, _run_turbo, _triples, _turbo_differs)
