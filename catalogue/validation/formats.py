"""The report for people and tools: terminal text (nb/en) and JUnit XML.

(The other two forms, JSON and Turtle, are :meth:`Report.to_json` and
:meth:`Report.turtle`.)"""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import TYPE_CHECKING

from rdflib import URIRef
from rdflib.term import Node

from .terms import (
    SEVERITIES,
    _fit,
    _json_node,
    _local,
    _node_sort_key,
    _property_key,
    _result_sort_key,
    _short,
    _shorten,
    _value_text,
)

if TYPE_CHECKING:
    from .model import Report, Result


def text(report: Report, lang: str = "en", *, width: int = 100) -> str:
    """A report for a terminal: grouped, errors first, lines within ``width``."""
    nb = lang in ("nb", "nn", "no")
    counts = report.counts
    names = ("feil", "advarsler", "merknader") if nb else ("errors", "warnings", "notes")
    head = ", ".join(f"{counts[s]} {n}" for s, n in zip(SEVERITIES, names, strict=True))
    verdict = (
        ("I samsvar" if nb else "Conforms")
        if report.conforms
        else ("IKKE i samsvar" if nb else "Does NOT conform")
    )
    lines = [
        f"{verdict}: {head}",
        ("profiler: " if nb else "profiles: ")
        + ", ".join(report.profiles)
        + ("; per " if nb else "; as of ")
        + report.as_of.isoformat(),
    ]
    tags = {"Violation": "ERROR", "Warning": "WARNING", "Info": "INFO"}
    if nb:
        tags = {"Violation": "FEIL", "Warning": "ADVARSEL", "Info": "MERKNAD"}
    indent = " " * 13
    for resource, props in report.grouped():
        lines.append("")
        label = report.labels.get(resource)
        title = _short(resource, width - 4)
        lines.append(f"{title}  ({label})" if label else title)
        for prop, results in props:
            lines.append(
                "  " + _shorten(prop or ("(ressursen)" if nb else "(resource)"), width - 2)
            )
            for result in results:
                tag = tags[result.severity].ljust(9)
                body = textwrap.wrap(
                    result.message(lang),
                    width=max(40, width - 13),
                    break_long_words=True,
                    break_on_hyphens=False,
                ) or [""]
                lines.append(f"    {tag}{body[0]}")
                lines.extend(indent + more for more in body[1:])
                extra = []
                if result.value is not None:
                    extra.append(("verdi: " if nb else "value: ") + _value_text(result.value))
                if result.shape is not None:
                    extra.append(f"[{result.profile}: {_local(result.shape)}]")
                if extra:
                    lines.append(indent + _shorten("  ".join(extra), width - 13))
    if report.quality:
        lines.append("")
        lines.append("Metadatakvalitet:" if nb else "Metadata quality:")
        for iri in sorted(report.quality):
            q = report.quality[iri]
            dims = " ".join(f"{d[:4]} {v['percent']:.0f}%" for d, v in q["dimensions"].items())
            lines.append("  " + _short(URIRef(iri), width - 2))
            lines.append(
                f"    {q['score']}/{q['max']} ({q['percent']:.0f}%, {q['rating']})  {dims}"
            )
    return "".join(_fit(line.rstrip(), width) for line in lines)


def junit(report: Report) -> str:
    """JUnit XML: a test suite per profile, a test case per resource.

    A resource with a Violation fails; warnings and notes are written to
    the test case's ``system-out``. A profile without results has one
    passing test case.
    """
    root = ET.Element("testsuites", name="eti validate")
    total_tests = total_failures = 0
    for profile in report.profiles:
        mine = [r for r in report.results if r.profile == profile]
        by_resource: dict[Node, list[Result]] = defaultdict(list)
        for r in mine:
            by_resource[r.resource].append(r)
        suite = ET.SubElement(root, "testsuite", name=profile)
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="asOf", value=report.as_of.isoformat())
        tests = failures = 0
        if not by_resource:
            ET.SubElement(suite, "testcase", classname=profile, name="all resources")
            tests = 1
        for resource in sorted(by_resource, key=_node_sort_key):
            results = sorted(by_resource[resource], key=_result_sort_key)
            case = ET.SubElement(
                suite, "testcase", classname=profile, name=_json_node(resource) or "_:blank"
            )
            tests += 1
            errors = [r for r in results if r.severity == "Violation"]
            others = [r for r in results if r.severity != "Violation"]
            if errors:
                failures += 1
                failure = ET.SubElement(
                    case,
                    "failure",
                    message=errors[0].message_en,
                    type="sh:Violation",
                )
                failure.text = "\n".join(_junit_line(r) for r in errors)
            if others:
                out = ET.SubElement(case, "system-out")
                out.text = "\n".join(_junit_line(r) for r in others)
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        total_tests += tests
        total_failures += failures
    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    root.set("errors", "0")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _junit_line(result: Result) -> str:
    where = _property_key(result) or "(resource)"
    value = f" value={_value_text(result.value)}" if result.value is not None else ""
    shape = f" [{_local(result.shape)}]" if result.shape is not None else ""
    return f"{result.severity}: {where}: {result.message_en}{value}{shape}"
