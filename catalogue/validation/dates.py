"""Rules judged against the as-of date: freshness and agreement status.

Standard SHACL cannot be given the day, and SPARQL date arithmetic on arbitrary
literals is not reliable, so these rules are declared as deactivated shapes
(``Freshness`` in shapes/eti.ttl, ``AgreementStatusDates`` in
shapes/agreements.ttl) and evaluated here against ``as_of``.
"""

from __future__ import annotations

import datetime as dt
import math

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from eti.catalogue import clock

from .shapes import shape_messages as _shape_messages
from .terms import _DCAT, _DCT, _DPROD, _ETI, _ODRL, SHAPES_BASE, _node_sort_key

AS_OF_COMPONENT = URIRef(SHAPES_BASE + "eti#AsOfDateConstraintComponent")
"""``sh:sourceConstraintComponent`` of results computed against the as-of date."""

GRACE_MIN_DAYS = 7
"""Smallest grace period, in days, added to a declared update period."""

_FREQ = "http://publications.europa.eu/resource/authority/frequency/"
FREQUENCY_DAYS: dict[str, int] = {
    **{
        code: 1
        for code in (
            "1MIN",
            "5MIN",
            "10MIN",
            "15MIN",
            "30MIN",
            "HOURLY",
            "BIHOURLY",
            "TRIHOURLY",
            "12HRS",
            "CONT",
            "UPDATE_CONT",
            "DAILY",
            "DAILY_2",
        )
    },
    "WEEKLY_3": 3,
    "WEEKLY_2": 4,
    "WEEKLY": 7,
    "BIWEEKLY": 14,
    "MONTHLY_3": 11,
    "MONTHLY_2": 16,
    "MONTHLY": 31,
    "BIMONTHLY": 62,
    "QUARTERLY": 92,
    "ANNUAL_3": 122,
    "ANNUAL_2": 183,
    "ANNUAL": 366,
    "BIENNIAL": 731,
    "TRIENNIAL": 1096,
    "QUADRENNIAL": 1461,
    "QUINQUENNIAL": 1827,
    "DECENNIAL": 3653,
    "BIDECENNIAL": 7305,
    "TRIDECENNIAL": 10958,
}
"""Days in the update period of each EU frequency code; codes without a
period (IRREG, AS_NEEDED, NEVER, NOT_PLANNED, UNKNOWN, OTHER) are absent and
never judged stale."""

_FRESHNESS = URIRef(SHAPES_BASE + "eti#Freshness")
_STATUS_DATES = URIRef(SHAPES_BASE + "agreements#AgreementStatusDates")


def _check_as_of(as_of: dt.date | str | None) -> dt.date:
    if as_of is None:
        return clock.today()
    if isinstance(as_of, dt.datetime):
        return as_of.date()
    if isinstance(as_of, dt.date):
        return as_of
    if isinstance(as_of, str):
        try:
            return dt.date.fromisoformat(as_of.strip())
        except ValueError as exc:
            raise ValueError(f"not a date (YYYY-MM-DD): {as_of!r}") from exc
    raise ValueError(f"not a date: {as_of!r}")


def freshness_deadline(modified: dt.date, frequency: str) -> dt.date | None:
    """The last day ``modified`` counts as fresh for ``frequency`` (IRI or code).

    ``None`` when the frequency declares no period (e.g. IRREG).
    """
    code = frequency.rsplit("/", 1)[-1]
    days = FREQUENCY_DAYS.get(code)
    if days is None:
        return None
    grace = max(GRACE_MIN_DAYS, math.ceil(days / 2))
    return modified + dt.timedelta(days=days + grace)


def _as_date(node: Node | None) -> dt.date | None:
    if not isinstance(node, Literal):
        return None
    value = node.toPython()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return None


def _as_of_results(work: Graph, profiles: tuple[str, ...], day: dt.date, reported) -> list[dict]:
    out: list[dict] = []
    if "eti" in profiles:
        nb, en = _shape_messages(_FRESHNESS)
        modified_p = URIRef(_DCT + "modified")
        freq_p = URIRef(_DCT + "accrualPeriodicity")
        targets = set(work.subjects(RDF.type, URIRef(_DPROD + "DataProduct")))
        targets |= set(work.subjects(RDF.type, URIRef(_DCAT + "Dataset")))
        for focus in sorted(targets, key=_node_sort_key):
            if not reported(focus):
                continue
            frequencies = [f for f in work.objects(focus, freq_p) if isinstance(f, URIRef)]
            dated = [(d, m) for m in work.objects(focus, modified_p) if (d := _as_date(m))]
            if len(frequencies) != 1 or not dated:
                continue
            modified, literal = max(dated, key=lambda pair: pair[0])
            deadline = freshness_deadline(modified, str(frequencies[0]))
            if deadline is None or deadline >= day:
                continue
            code = str(frequencies[0]).rsplit("/", 1)[-1]
            out.append(
                {
                    "focus": focus,
                    "path": modified_p,
                    "value": literal,
                    "severity": "Warning",
                    "shape": _FRESHNESS,
                    "nb": f"{nb} Endret {modified}, frekvens {code}, frist {deadline}, "
                    f"vurdert per {day}.",
                    "en": f"{en} Modified {modified}, frequency {code}, due by {deadline}, "
                    f"as of {day}.",
                }
            )
    if "agreements" in profiles:
        nb, en = _shape_messages(_STATUS_DATES)
        status_p = URIRef(_ETI + "agreementStatus")
        active = URIRef(_ETI + "active")
        temporal = URIRef(_DCT + "temporal")
        for focus in sorted(
            work.subjects(RDF.type, URIRef(_ODRL + "Agreement")), key=_node_sort_key
        ):
            if not reported(focus) or (focus, status_p, active) not in work:
                continue
            periods = list(work.objects(focus, temporal))
            if len(periods) != 1:
                continue
            start = _as_date(work.value(periods[0], URIRef(_DCAT + "startDate")))
            end = _as_date(work.value(periods[0], URIRef(_DCAT + "endDate")))
            if start is None or end is None or start <= day <= end:
                continue
            out.append(
                {
                    "focus": focus,
                    "path": status_p,
                    "value": active,
                    "severity": "Warning",
                    "shape": _STATUS_DATES,
                    "nb": f"{nb} Periode {start}–{end}, vurdert per {day}.",
                    "en": f"{en} Period {start} to {end}, as of {day}.",
                }
            )
    return out
