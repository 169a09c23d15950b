// The steward form's theme picker: a filter over the theme checkboxes. Without this
// script the full list is shown and works the same; checked themes always stay visible.
(function () {
  "use strict";
  var box = document.querySelector(".theme-filter");
  var input = document.getElementById("theme-filter");
  if (!box || !input) return;
  box.hidden = false;
  var items = document.querySelectorAll("#theme-lists li");
  input.addEventListener("input", function () {
    var words = input.value.trim().toLowerCase();
    items.forEach(function (li) {
      var box = li.querySelector("input");
      var text = li.textContent.toLowerCase();
      li.hidden = !!words && !box.checked && text.indexOf(words) === -1;
    });
  });
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();

// A link of the error summary moves the focus to its field (not only the view).
document.querySelectorAll("#error-summary a[href^='#']").forEach(function (link) {
  link.addEventListener("click", function (event) {
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    event.preventDefault();
    target.scrollIntoView({ block: "center" });
    target.focus();
  });
});

// Live checks: when a field changes, the same check as the "Check" button runs (the
// server answers JSON for live=1) and its findings replace those next to the fields.
// Without this script the button does the same with a page load.
(function () {
  "use strict";
  var form = document.querySelector("form.steward-form");
  var status = document.getElementById("live-status");
  var script = document.currentScript || document.querySelector("script[data-severity-violation]");
  if (!form || !status || !window.fetch || !window.FormData) return;
  var words = {
    Violation: script.dataset.severityViolation,
    Warning: script.dataset.severityWarning,
    Info: script.dataset.severityInfo
  };
  var timer = null;
  var running = null;

  function target(name) {
    return document.getElementById(name || "general");
  }

  function clear() {
    form.querySelectorAll(".finding").forEach(function (p) { p.remove(); });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) {
      el.removeAttribute("aria-invalid");
    });
    form.querySelectorAll(".field-flagged").forEach(function (el) {
      el.classList.remove("field-flagged");
    });
    form.querySelectorAll("[aria-describedby]").forEach(function (el) {
      var kept = el.getAttribute("aria-describedby").split(" ").filter(function (id) {
        return id.indexOf("-finding-") === -1;
      });
      if (kept.length) el.setAttribute("aria-describedby", kept.join(" "));
      else el.removeAttribute("aria-describedby");
    });
  }

  function show(fields) {
    Object.keys(fields).forEach(function (name) {
      var el = target(name);
      if (!el || !form.contains(el)) return;
      var holder = el.tagName === "FIELDSET" ? el : el.closest(".field");
      if (!holder) return;
      holder.classList.add("field-flagged");
      var ids = [];
      fields[name].forEach(function (row, i) {
        var p = document.createElement("p");
        var badge = document.createElement("span");
        p.className = "finding finding-" + row.severity.toLowerCase();
        p.id = name + "-finding-" + (i + 1);
        badge.className = "badge sev-" + row.severity.toLowerCase();
        badge.textContent = words[row.severity] || row.severity;
        p.appendChild(badge);
        p.appendChild(document.createTextNode(" " + row.message));
        if (row.lang) p.lang = row.lang;
        ids.push(p.id);
        var legend = holder.tagName === "FIELDSET" ? holder.querySelector("legend") : null;
        var label = holder.querySelector("label");
        var after = legend || (el.tagName === "FIELDSET" ? null : el);
        if (after === el) el.parentNode.insertBefore(p, el);
        else if (after) after.insertAdjacentElement("afterend", p);
        else if (label) label.insertAdjacentElement("afterend", p);
      });
      if (el.tagName !== "FIELDSET") {
        var described = (el.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
        el.setAttribute("aria-describedby", described.concat(ids).join(" "));
        if (fields[name].some(function (r) { return r.severity === "Violation"; })) {
          el.setAttribute("aria-invalid", "true");
        }
      }
    });
  }

  function check() {
    if (running) running.abort();
    running = new AbortController();
    var body = new FormData(form);
    body.set("action", "check");
    body.set("live", "1");
    // (form.action would be the buttons named "action": a form's controls shadow it)
    fetch(form.getAttribute("action"), { method: "POST", body: body, credentials: "same-origin",
                         signal: running.signal })
      .then(function (answer) { return answer.json(); })
      .then(function (doc) {
        clear();
        show(doc.fields || {});
        status.textContent = doc.status || "";
      })
      .catch(function () { /* a newer check took over, or the page is leaving */ });
  }

  form.addEventListener("change", function (event) {
    if (event.target && event.target.id === "theme-filter") return;
    clearTimeout(timer);
    timer = setTimeout(check, 800);
  });
  form.addEventListener("submit", function () {
    clearTimeout(timer);
    if (running) running.abort();
  });
})();
