"""The SPARQL lexer the store needs to bind values into a text (and that ``sparqltext``
reads queries with): strings, IRIs and comments are tokens of their own, so a variable
or keyword inside a literal is never touched."""

from __future__ import annotations

import re

# SPARQL 1.1 §19.8 productions, so a local name with an escape (``ex:a\#b``) or a
# percent code is read whole, as the engine reads it
_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff"
    "\u200c-\u200d\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd"
    "\U00010000-\U000effff"
)
_CHARS = _BASE + "_\\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
PN_PREFIX = f"[{_BASE}](?:[{_CHARS}.]*[{_CHARS}])?"
PN_LOCAL = f"(?:[{_BASE}_:0-9]|{_PLX})(?:(?:[{_CHARS}.:]|{_PLX})*(?:[{_CHARS}:]|{_PLX}))?"

TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\r\n]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
               |'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][A-Za-z0-9_\u00B7-\uFFFF]+)
  | (?P<pname>(?:{PN_PREFIX})?:(?:{PN_LOCAL})?)
  | (?P<word>[A-Za-z_]+)
  | (?P<other>.)
    """.replace("{PN_PREFIX}", PN_PREFIX).replace("{PN_LOCAL}", PN_LOCAL),
    re.VERBOSE | re.DOTALL,
)
