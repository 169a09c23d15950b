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
