// RCF Tracker: searchable pickers with chips (issue 12).
//
// Enhances plain Django <select> / <select multiple> elements marked `data-picker` with Tom Select
// (window.TomSelect, from the django-tomselect package's static files: load
// django_tomselect/js/django-tomselect.min.js before this file). Nothing is fetched: the options are
// the select's own, optgroups included (countries by group). Without JavaScript, or if Tom Select is
// missing, the plain select works and is what the form posts in every case.
//
// Attributes on the select:
//   data-picker               enhance it
//   data-placeholder="…"      the text in the empty search box ("Choose countries")
//
// Accessibility: Tom Select gives its search box role="combobox" and points the field's <label for> at
// it; the original select (kept, visually hidden and out of the tab order, posting the values) is hidden
// from assistive technology, so there is one control per field; the box gets the select's
// aria-describedby (help text, error) and aria-invalid, and each chip's remove button says
// "Remove <name>" in the page's language.
(function () {
  "use strict";

  var KO = document.documentElement.lang === "ko";
  var TEXT = KO ? {
    noResults: "일치하는 항목이 없습니다",
    remove: function (name) { return name + " 삭제"; },
    removeTitle: "삭제",
  } : {
    noResults: "Nothing matches",
    remove: function (name) { return "Remove " + name; },
    removeTitle: "Remove",
  };

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  function labelChips(ts) {
    ts.control.querySelectorAll(".item").forEach(function (item) {
      var button = item.querySelector("button.remove");
      if (!button) return;
      var name = "";
      item.childNodes.forEach(function (node) { if (node !== button) name += node.textContent; });
      button.setAttribute("aria-label", TEXT.remove(name.trim()));
      button.title = TEXT.removeTitle;
    });
  }

  function enhance(select) {
    if (select.tomselect || typeof window.TomSelect !== "function") return;
    var multiple = select.multiple;
    var placeholder = select.getAttribute("data-placeholder") || "";
    var settings = {
      plugins: multiple ? {remove_button: {title: TEXT.removeTitle}} : {},
      maxOptions: null,             // every option (the lists are the site's own, a few hundred at most)
      refreshThrottle: 0,           // filter at once: "Phil" + Enter picks the Philippines, not the first option
      placeholder: placeholder,
      hidePlaceholder: false,
      allowEmptyOption: !multiple && !select.required,
      lockOptgroupOrder: true,      // ASEAN, Pacific Islands, like-minded, other: the framework's order
      closeAfterSelect: !multiple,
      copyClassesToDropdown: false,
      render: {
        no_results: function () { return '<div class="no-results">' + escapeHtml(TEXT.noResults) + "</div>"; },
      },
    };
    var ts;
    try {
      ts = new window.TomSelect(select, settings);
    } catch (error) {
      return;  // the plain select stays
    }
    var input = ts.control_input;
    // The search box stands for the select, which stays only to post the values (out of the tab order):
    // assistive technology meets one control, named by the field's label.
    select.setAttribute("aria-hidden", "true");
    ["aria-describedby", "aria-invalid", "aria-required"].forEach(function (name) {
      if (select.hasAttribute(name)) input.setAttribute(name, select.getAttribute(name));
    });
    if (select.required) input.setAttribute("aria-required", "true");
    // The search box of a multi-select: its own width, not the placeholder's (phones).
    input.setAttribute("autocomplete", "off");
    labelChips(ts);
    ts.on("item_add", function () {
      labelChips(ts);
      if (multiple) {
        // Ready for the next one: the search text goes, the whole list is offered again.
        ts.setTextboxValue("");
        ts.refreshOptions(false);
      }
    });
    ts.on("change", function () { labelChips(ts); });
    // A native reset of the form resets the picker too.
    if (select.form) {
      select.form.addEventListener("reset", function () {
        setTimeout(function () { ts.sync(); labelChips(ts); }, 0);
      });
    }
  }

  function enhanceWithin(root) {
    if (!root || !root.querySelectorAll) return;
    if (root.matches && root.matches("select[data-picker]")) enhance(root);
    root.querySelectorAll("select[data-picker]").forEach(enhance);
  }

  window.rcfPickers = {enhance: enhanceWithin};
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { enhanceWithin(document); });
  } else {
    enhanceWithin(document);
  }
  // Content swapped in by htmx (the engagement form on the project page after an invalid submit).
  document.addEventListener("htmx:load", function (event) { enhanceWithin(event.detail && event.detail.elt); });
})();
