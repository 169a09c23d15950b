// The query page's editor: CodeMirror 6 with the SPARQL mode, results fetched from the
// SPARQL endpoint (same origin) and shown as a table. Built by `make assets` (esbuild) into
// server/static/query.js. Without JavaScript the page is a plain form whose results the
// server renders; this script only enhances it.
import { defaultKeymap, history as undoHistory, historyKeymap } from "@codemirror/commands";
import {
  bracketMatching,
  defaultHighlightStyle,
  StreamLanguage,
  syntaxHighlighting,
} from "@codemirror/language";
import { sparql } from "@codemirror/legacy-modes/mode/sparql";
import { EditorState } from "@codemirror/state";
import {
  drawSelection,
  EditorView,
  highlightActiveLine,
  keymap,
  lineNumbers,
} from "@codemirror/view";

const form = document.getElementById("query-form");
const textarea = document.getElementById("query-text");
const results = document.getElementById("results");

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value !== null && value !== undefined) node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function say(key, n) {
  const text = results.dataset["t" + key] || key;
  return n === undefined ? text : text.replace("{n}", String(n));
}

// --- terms -----------------------------------------------------------------------------

let prefixes = null;

function compact(iri) {
  prefixes = prefixes || Object.entries(JSON.parse(results.dataset.prefixes || "{}"));
  let best = null;
  for (const [prefix, namespace] of prefixes) {
    const local = iri.slice(namespace.length);
    if (iri.startsWith(namespace) && /^[\w.-]+$/.test(local)) {
      if (!best || namespace.length > best[1].length) best = [prefix + ":" + local, namespace];
    }
  }
  return best ? best[0] : iri;
}

function termCell(term) {
  const td = el("td");
  if (!term) {
    td.append(el("span", { class: "muted" }, "–"));
    return td;
  }
  const base = form.dataset.base || "";
  if (term.type === "uri") {
    const value = term.value;
    const shown = compact(value);
    const title = shown === value ? null : value;
    const products = base + "products/";
    const id = value.startsWith(products) ? value.slice(products.length) : null;
    if (id && /^[a-z0-9-]+$/.test(id)) {
      td.append(el("a", { href: form.dataset.productPage.replace("ID", id), title }, shown));
    } else if (/^https?:\/\//.test(value) && !value.startsWith(base)) {
      td.append(el("a", { href: value, title }, shown));
    } else {
      td.append(el("span", { class: "iri", title }, shown));
    }
  } else if (term.type === "bnode") {
    td.append("_:" + term.value);
  } else {
    td.append(term.value);
    const note = term["xml:lang"]
      ? "@" + term["xml:lang"]
      : term.datatype
        ? term.datatype.split(/[#/]/).pop()
        : "";
    if (note) td.append(" ", el("span", { class: "note-tag" }, note));
  }
  return td;
}

// A small N-Triples reader (the endpoint's CONSTRUCT/DESCRIBE answer).
const NT_TERM =
  /\s*(?:<([^>]*)>|_:(\S+)|"((?:[^"\\]|\\.)*)"(?:@([A-Za-z0-9-]+)|\^\^<([^>]*)>)?)/y;

function unescapeNt(text) {
  return text.replace(/\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)/g, (_, code) => {
    if (code[0] === "u" || code[0] === "U") return String.fromCodePoint(parseInt(code.slice(1), 16));
    return { t: "\t", n: "\n", r: "\r", b: "\b", f: "\f", '"': '"', "'": "'", "\\": "\\" }[code] ?? code;
  });
}

function parseNTriples(text) {
  const triples = [];
  for (const line of text.split("\n")) {
    if (!line.trim() || line.trim().startsWith("#")) continue;
    const terms = [];
    NT_TERM.lastIndex = 0;
    for (let i = 0; i < 3; i++) {
      const m = NT_TERM.exec(line);
      if (!m) break;
      if (m[1] !== undefined) terms.push({ type: "uri", value: unescapeNt(m[1]) });
      else if (m[2] !== undefined) terms.push({ type: "bnode", value: m[2] });
      else {
        const term = { type: "literal", value: unescapeNt(m[3]) };
        if (m[4]) term["xml:lang"] = m[4];
        if (m[5]) term.datatype = m[5];
        terms.push(term);
      }
    }
    if (terms.length === 3) triples.push(terms);
  }
  return triples;
}

// --- results ---------------------------------------------------------------------------

function downloadLinks(query, kind) {
  const list = JSON.parse(
    kind === "graph" ? results.dataset.graphDownloads : results.dataset.solutionDownloads,
  );
  const p = el("p", { class: "downloads" }, say("Download") + ": ");
  list.forEach(([name, title], i) => {
    const params = new URLSearchParams({ query, format: name });
    if (i) p.append(" · ");
    p.append(
      el("a", { href: form.dataset.endpoint + "?" + params, download: "eti-result." + name }, title),
    );
  });
  return p;
}

function table(headers, rows) {
  const head = el("tr", null, ...headers.map((h) => el("th", { scope: "col" }, h)));
  const body = el("tbody");
  for (const row of rows) body.append(el("tr", null, ...row.map(termCell)));
  return el(
    "div",
    { class: "table-wrap", tabindex: "0", role: "region", "aria-label": say("Table") },
    el("table", { class: "data results-table" }, el("thead", null, head), body),
  );
}

function show(nodes, status) {
  results.replaceChildren(el("h2", { id: "results-heading" }, say("Results")), ...nodes);
  const live = document.getElementById("query-status");
  if (live) live.textContent = status || "";
}

function shareUrl(query) {
  return form.getAttribute("action") + "?" + new URLSearchParams({ query });
}

async function run() {
  const query = textarea.value;
  show([el("p", { class: "summary" }, say("Running"))], say("Running"));
  const body = new URLSearchParams({ query });
  const csrf = form.querySelector("[data-csrf]");
  if (csrf) body.set("csrf", csrf.value);
  let response;
  try {
    response = await fetch(form.dataset.endpoint, {
      method: "POST",
      headers: {
        Accept: "application/sparql-results+json, application/n-triples;q=0.9",
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body,
      credentials: "same-origin",
    });
  } catch (error) {
    show([errorBox(String(error))], say("Error"));
    return;
  }
  const text = await response.text();
  if (!response.ok) {
    let detail = text;
    try {
      const doc = JSON.parse(text);
      detail = [doc.error, typeof doc.detail === "string" ? doc.detail : JSON.stringify(doc.detail)]
        .filter(Boolean)
        .join(": ");
    } catch (_) {
      /* plain text */
    }
    show([errorBox(detail)], say("Error"));
    return;
  }
  const url = shareUrl(query);
  window.history.replaceState(null, "", url);
  const truncated = response.headers.get("ETI-Truncated");
  const type = (response.headers.get("Content-Type") || "").split(";")[0].trim();
  const nodes = [];
  let kind = "solutions";
  let summary = "";
  if (type === "application/n-triples") {
    kind = "graph";
    const triples = parseNTriples(text);
    summary = say("Triples", triples.length);
    nodes.push(el("p", { class: "summary" }, summary));
    nodes.push(table([say("Subject"), say("Predicate"), say("Object")], triples));
  } else {
    const doc = JSON.parse(text);
    if (typeof doc.boolean === "boolean") {
      summary = doc.boolean ? say("Yes") : say("No");
      nodes.push(el("p", { class: "boolean" }, summary));
    } else {
      const vars = doc.head.vars || [];
      const rows = doc.results.bindings.map((b) => vars.map((v) => b[v]));
      summary = rows.length === 1 ? say("RowsOne") : say("Rows", rows.length);
      nodes.push(el("p", { class: "summary" }, summary));
      nodes.push(table(vars.map((v) => "?" + v), rows));
    }
  }
  if (truncated) nodes.push(el("p", { class: "summary" }, truncated));
  nodes.push(downloadLinks(query, kind));
  nodes.push(el("p", null, el("a", { href: url, class: "share" }, say("Share"))));
  show(nodes, summary);
}

function errorBox(detail) {
  return el(
    "div",
    { class: "notice notice-error", role: "alert" },
    el("strong", null, say("Error")),
    el("pre", { class: "error-text", lang: "en" }, detail), // the engine's words
  );
}

// --- the editor ----------------------------------------------------------------------------

if (form && textarea && results) {
  const host = el("div", { class: "cm-host" });
  textarea.hidden = true;
  textarea.after(host);
  const submit = () => {
    run();
    return true;
  };
  const view = new EditorView({
    parent: host,
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        lineNumbers(),
        undoHistory(),
        drawSelection(),
        highlightActiveLine(),
        bracketMatching(),
        StreamLanguage.define(sparql),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        keymap.of([
          { key: "Mod-Enter", run: submit },
          ...defaultKeymap,
          ...historyKeymap,
        ]),
        EditorView.lineWrapping,
        EditorView.cspNonce.of(form.dataset.styleNonce || ""),
        EditorView.contentAttributes.of({
          "aria-label": document.querySelector("label[for=query-text]").textContent,
          "aria-describedby": "query-help",
        }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) textarea.value = update.state.doc.toString();
        }),
      ],
    }),
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    textarea.value = view.state.doc.toString();
    run();
  });
  // Examples: load into the editor and run, without leaving the page.
  for (const link of document.querySelectorAll("a[data-example]")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      const query = new URL(link.href, location.href).searchParams.get("query") || "";
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: query } });
      textarea.value = query;
      view.focus();
      run();
    });
  }
  window.etiEditor = view;
}
