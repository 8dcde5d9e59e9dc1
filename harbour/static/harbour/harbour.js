// Small enhancements only: every page works without JavaScript.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    var form = select.form;
    form.querySelectorAll(".js-hide").forEach(function (el) { el.hidden = true; });
    select.addEventListener("change", function () { form.submit(); });
  });
  // UIC parts: move to the next input once a part is complete, for speed at the counter.
  document.querySelectorAll(".uic-grid input[maxlength]").forEach(function (input, i, all) {
    input.addEventListener("input", function () {
      input.value = input.value.toUpperCase();
      if (input.value.length >= input.maxLength) {
        var fields = Array.prototype.slice.call(document.querySelectorAll(".uic-grid input, .uic-grid select"));
        var next = fields[fields.indexOf(input) + 1];
        if (next) { next.focus(); }
      }
    });
  });
});
