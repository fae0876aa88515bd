/* RCF Tracker: the project page's lifecycle stepper (issue 12).
   The server renders every step with the reasons it is refused (projects.services.transition_problems);
   the step form's own inputs (priority, ready-on date) change the outcome, so they are re-checked here as
   they change, with the limits and the messages the server gave (data-* attributes): the reason shows next
   to the input and the submit button is disabled while it stands. Steps refused for a reason the form cannot
   fix (role, missing lead, ...) stay disabled (server-rendered). */
(function () {
  "use strict";

  function checkInput(input) {
    var out = document.querySelector("[data-check-for='" + input.id + "']");
    var message = "";
    if (input.type === "number") {
      var value = input.value.trim();
      if (value === "") {
        message = input.required ? (input.getAttribute("data-missing-message") || "") : "";
      } else if (!/^\d+$/.test(value) || +value < +input.min || +value > +input.max) {
        message = input.getAttribute("data-check-message") || "";
      }
    } else if (input.type === "date" && input.value) {
      if (input.max && input.value > input.max) message = input.getAttribute("data-max-message") || "";
      else if (input.min && input.value < input.min) message = input.getAttribute("data-min-message") || "";
    } else if (input.type === "date" && input.validity && input.validity.badInput) {
      message = input.getAttribute("data-max-message") || "";
    }
    if (out) out.textContent = message;
    input.setAttribute("aria-invalid", message ? "true" : "false");
    return !message;
  }

  function checkForm(form) {
    var ok = true;
    form.querySelectorAll("input[data-check-message], input[data-max-message]").forEach(function (input) {
      if (!checkInput(input)) ok = false;
    });
    var button = form.querySelector("button[type=submit]");
    // A step the server refused for other reasons (aria-describedby="why-…") stays disabled.
    if (button && !button.hasAttribute("data-server-blocked")) {
      button.disabled = !ok;
      button.classList.toggle("is-waiting", !ok);
    }
    return ok;
  }

  function init() {
    document.querySelectorAll("form[data-step-form]").forEach(function (form) {
      var button = form.querySelector("button[type=submit]");
      if (button && button.disabled) button.setAttribute("data-server-blocked", "");
      form.addEventListener("input", function () { checkForm(form); });
      form.addEventListener("change", function () { checkForm(form); });
      checkForm(form);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
