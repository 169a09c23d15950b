"""Keep the README honest: every route, setting and command it names exists, and back."""

from __future__ import annotations

import re
from pathlib import Path

from eti.catalogue import cli as cli_module
from eti.catalogue.config import SETTINGS, Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end > 0 else None]


def test_quick_start_is_make_run_then_make_test() -> None:
    block = section("Quick start").split("```sh")[1].split("```")[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make run", "make test"]


def test_routes_table_equals_the_application_routes(app) -> None:
    documented = set(re.findall(r"^\| `(/[^`]*)` \|", section("HTTP routes"), re.M))
    served = {
        re.sub(r"<(?:[^:>]+:)?(\w+)>", r"<\1>", rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
    }
    assert documented == served


def route_rows() -> list[tuple[str, set[str], str]]:
    """(route, methods, curl line) of each row of the README's routes table."""
    out = []
    for row in re.findall(r"^\| `/.*$", section("HTTP routes"), re.M):
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        out.append((cells[0].strip("`"), {m.strip() for m in cells[1].split(",")}, cells[-1]))
    return out


def test_every_route_row_has_the_methods_served_and_a_curl_line_for_itself(app) -> None:
    """Regression: only the paths were compared, so a wrong methods column or a curl
    line aimed at another route went unnoticed."""
    served: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static":
            path = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"<\1>", rule.rule)
            served.setdefault(path, set()).update(rule.methods - {"HEAD", "OPTIONS"})
    for route, methods, curl in route_rows():
        assert methods - {"HEAD"} == served[route], (route, methods)
        assert "HEAD" not in methods or "GET" in methods, route
        assert curl.startswith("`curl "), route
        url = re.search(r"http://127\.0\.0\.1:8080(/[^\s'\"`?]*)", curl)
        assert url, route
        pattern = re.sub(
            r"<\w+>", "[^/]+", re.escape(route).replace(r"\<", "<").replace(r"\>", ">")
        )
        assert re.fullmatch(pattern, url.group(1)), (route, url.group(1))


def test_settings_table_equals_the_settings() -> None:
    documented = re.findall(r"^\| `(\w+)` \| `ETI_(\w+)` \|", section("Settings"), re.M)
    assert [name for name, _ in documented] == list(SETTINGS)
    assert all(env == name.upper() for name, env in documented)
    assert set(SETTINGS) == set(Settings.__dataclass_fields__)


def test_every_command_is_documented() -> None:
    cli_module._plugins()
    text = section("Command line")
    for name, command in cli_module.cli.commands.items():
        subs = getattr(command, "commands", None)
        for sub in subs or [None]:
            spelled = f"eti {name}" + (f" {sub}" if sub else "")
            assert f"`{spelled}" in text, f"{spelled} is not in the README"


def test_rules_document_is_generated_from_the_shapes() -> None:
    from eti.catalogue.rulesdoc import markdown

    current = (Path(__file__).resolve().parents[1] / "docs" / "rules.md").read_text("utf-8")
    assert current == markdown(), "run: python -m eti.catalogue.rulesdoc > docs/rules.md"


def test_every_readme_query_runs_on_the_demo(client, as_) -> None:
    app = as_("channel", channel="https://eti.example/channels/familieapp")
    blocks = re.findall(r"```sparql\n(.*?)```", README, re.S)
    assert len(blocks) >= 3
    for block in blocks:
        response = client.post(
            "/sparql",
            data={"query": block},
            headers={**app, "Accept": "application/sparql-results+json"},
        )
        assert response.status_code == 200, block
        rows = response.json["results"]["bindings"]
        assert rows, f"no rows for:\n{block}"
    combined = client.post("/sparql", data={"query": blocks[0]}).json["results"]["bindings"]
    assert len({r["authority"]["value"] for r in combined}) >= 3


def test_openapi_describes_exactly_the_rest_routes(app, client) -> None:
    doc = client.get("/api/openapi.json").json
    described = {
        (path, method.upper())
        for path, item in doc["paths"].items()
        for method in item
        if method in ("get", "post", "put", "delete")
    }
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") and rule.rule not in ("/healthz", "/feed"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule)
        served |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert described == served


def test_the_security_notes_cite_tests_that_exist() -> None:
    root = Path(__file__).resolve().parent
    text = (root.parent / "docs" / "security.md").read_text("utf-8")
    cited = re.findall(r"`(test_\w+\.py)(?:::(\w+))?", text)
    assert len(cited) > 20
    for module, name in cited:
        source = (root / module).read_text("utf-8")
        if name:
            assert f"def {name}(" in source, f"{module}::{name} does not exist"
    for name in re.findall(r", `(test_\w+)`", text):
        assert any(f"def {name}(" in p.read_text("utf-8") for p in root.glob("test_*.py")), name
