// Small accessibility helpers around htmx swaps. Every page also works without this file.
(function () {
  "use strict";

  // A KERN control that is marked invalid carries "<base class>--error" beside its base class.
  function clearFieldErrors(form) {
    form.querySelectorAll(".kern-error").forEach(function (message) {
      message.remove();
    });
    form.querySelectorAll(".kern-form-input--error, .kern-form-check--error").forEach(function (group) {
      group.classList.remove("kern-form-input--error", "kern-form-check--error");
    });
    form.querySelectorAll("[aria-invalid]").forEach(function (control) {
      control.removeAttribute("aria-invalid");
      control.removeAttribute("aria-describedby");
      control.classList.forEach(function (name) {
        if (name.endsWith("--error")) {
          control.classList.remove(name);
        }
      });
    });
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var results = document.getElementById("work-queue-results");
    if (!results || !results.contains(event.target)) {
      return;
    }
    // Tell screen readers how many cases the new filters found (the region itself is replaced).
    var status = document.getElementById("work-queue-status");
    if (status && results.dataset.statusMessage) {
      status.textContent = results.dataset.statusMessage;
    }
    // Errors shown next to the fields by a full page load are stale once the filters are valid.
    var form = document.getElementById("work-queue-filters");
    if (form && results.dataset.filtersValid === "true") {
      clearFieldErrors(form);
    }
    // A pagination link is gone after the swap: put the focus on the results heading instead.
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (source && source.hasAttribute("data-focus-results")) {
      var heading = document.getElementById("work-queue-results-heading");
      if (heading) {
        heading.focus();
      }
    }
  });
})();
