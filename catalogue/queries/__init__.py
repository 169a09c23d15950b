"""SPARQL text of the catalogue, one ``.rq`` file per intent.

Values are bound at run time (``Store.query(text, bindings=...)``), never formatted in.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def load(name: str) -> str:
    """The text of ``queries/<name>.rq``."""
    return (files(__name__) / f"{name}.rq").read_text(encoding="utf-8")


def names() -> list[str]:
    """Every query shipped with the package."""
    return sorted(p.name[:-3] for p in files(__name__).iterdir() if p.name.endswith(".rq"))
