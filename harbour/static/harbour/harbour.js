// Small enhancements only: every page works without JavaScript.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    var form = select.form;
    form.querySelectorAll(".js-hide").forEach(function (el) { el.hidden = true; });
    select.addEventListener("change", function () { form.submit(); });
  });

  // UIC parts: move to the next input once a part is complete, for speed at the
  // counter. Many people press Tab after each part out of habit: the Tab that comes
  // right after an automatic move is taken as already done, so it never skips a part.
  document.querySelectorAll(".uic-grid").forEach(function (grid) {
    var parts = Array.prototype.slice.call(grid.querySelectorAll("input, select"));
    var movedTo = null;
    parts.forEach(function (el) {
      if (el.tagName === "INPUT" && el.maxLength > 0) {
        el.addEventListener("input", function (event) {
          var upper = el.value.toUpperCase();
          if (upper !== el.value) {
            var start = el.selectionStart, end = el.selectionEnd;
            el.value = upper;
            el.setSelectionRange(start, end);
          }
          var typed = !event.inputType || event.inputType.indexOf("insert") === 0;
          var next = parts[parts.indexOf(el) + 1];
          if (typed && next && el.value.length >= el.maxLength) {
            next.focus();
            movedTo = next;
          }
        });
      }
      el.addEventListener("keydown", function (event) {
        var plainTab = event.key === "Tab" && !event.shiftKey && !event.altKey &&
          !event.ctrlKey && !event.metaKey;
        if (plainTab && movedTo === el) { event.preventDefault(); }
        movedTo = null;
      });
      el.addEventListener("mousedown", function () { movedTo = null; });
    });
  });

  // Enter in a region's inputs presses that region's button, not the form's first
  // one: in "Register as a new client", Enter registers rather than searching again.
  document.querySelectorAll("[data-enter-button]").forEach(function (region) {
    var button = document.getElementById(region.getAttribute("data-enter-button"));
    if (!button || !button.form) { return; }
    region.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.key !== "Enter" || event.isComposing || target.tagName !== "INPUT") { return; }
      if (target.type === "submit" || target.type === "button") { return; }
      event.preventDefault();
      if (button.form.requestSubmit) { button.form.requestSubmit(button); } else { button.click(); }
    });
  });

  // After a submit, put the keyboard where the work goes on: the first field with
  // an error, or else what the page marks with data-focus (e.g. "No client with
  // this code"). This runs before the browser applies autofocus, so it wins.
  var target = document.querySelector(
    ".has-error input:not([type=hidden]), .has-error select, .has-error textarea"
  ) || document.querySelector("[data-focus]");
  if (target) { target.focus(); }
});
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
});
// Dispensing: typing a client code narrows the list; Enter with one match gives the dose.
// The board comes back after each dose with the keyboard in the filter (autofocus), so
// the nurse types the next code at once.
document.addEventListener("DOMContentLoaded", function () {
  var filter = document.querySelector("[data-dispense-filter]");
  if (!filter) { return; }
  var rows = Array.prototype.slice.call(document.querySelectorAll(".dispense-row"));
  var status = document.querySelector("[data-filter-status]");
  var sent = false;
  window.addEventListener("pageshow", function () { sent = false; });  // back from the cache
  function visible() { return rows.filter(function (r) { return !r.hidden; }); }
  function describe(row) {
    if (row.querySelector("[data-give]")) { return "One person: press Enter to give the dose."; }
    if (row.querySelector("[data-review]")) { return "One person, waiting for a clinician's review."; }
    return "One person, already given today.";
  }
  filter.addEventListener("input", function () {
    var q = filter.value.toUpperCase().replace(/[^0-9A-Z]/g, "");
    rows.forEach(function (r) {
      r.hidden = q !== "" && r.getAttribute("data-code").replace(/-/g, "").indexOf(q) !== 0;
    });
    var shown = visible();
    var n = shown.length;
    status.textContent = q === "" ? "" :
      n === 1 ? describe(shown[0]) :
      n === 0 ? "Nobody expected today has a code starting like this." : n + " people match.";
  });
  filter.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || e.isComposing) { return; }
    e.preventDefault();
    var shown = visible();
    if (shown.length !== 1 || sent) { return; }
    var button = shown[0].querySelector("[data-give]");
    if (button) {
      sent = true;  // a second Enter while the page loads must not send a second dose
      button.form.submit();
    } else {
      // Waiting for a review, or already given: the keyboard goes to the person's link.
      (shown[0].querySelector("[data-review]") || shown[0].querySelector("a")).focus();
    }
  });
});
