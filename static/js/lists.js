// RCF Tracker: list pages' filter bar (issue 12). Loaded with defer by the list templates.
//
// The filter form (form[data-list-filters]) updates #results through htmx and pushes the address; this
// script keeps the form and the results in step:
//   - a chip's link (data-remove-name/-value) unticks or empties that value in the form, "Clear all"
//     (data-clear-all) empties every filter but the sort, a sortable header (data-sort) sets the sort;
//     each then submits the form, so the address, the form and the results always agree. Without
//     JavaScript they are plain links to the same addresses;
//   - empty parameters (and the default sort) are left out of the address;
//   - the filter menus (details[data-filter-menu]) close on Escape and on a click elsewhere;
//   - on a phone the panel opens from "Filters" (aria-expanded);
//   - row selection: "Select all on this page", the count selected, and the bulk buttons only when
//     something is selected.
// Focus is put back where it was (the same header, the next chip, the results) after the swap.
(function () {
  "use strict";

  function filtersForm() { return document.querySelector("form[data-list-filters]"); }

  function submit(form) {
    if (window.htmx) window.htmx.trigger(form, "submit");
    else form.submit();
  }

  var pendingFocus = null;

  function clearField(form, name, value) {
    var found = false;
    form.querySelectorAll("[name]").forEach(function (el) {
      if (el.name !== name) return;
      if (el.type === "checkbox" || el.type === "radio") {
        if (value === null || el.value === value) { if (el.checked) found = true; el.checked = false; }
      } else if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) {
          if (value === null || o.value === value) { if (o.selected) found = true; o.selected = false; }
        });
      } else if (value === null || el.value === value) {
        if (el.value) found = true;
        el.value = "";
      }
    });
    return found;
  }

  document.addEventListener("click", function (event) {
    var form = filtersForm();
    if (!form) return;
    var link = event.target.closest("a[data-remove-name], a[data-clear-all], a[data-sort]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
    if (link.hasAttribute("data-sort")) {
      var sort = form.querySelector("[name=sort]");
      if (!sort) return;
      sort.value = link.getAttribute("data-sort");
      pendingFocus = { header: link.closest("th") ? Array.prototype.indexOf.call(link.closest("tr").children, link.closest("th")) : -1 };
    } else if (link.hasAttribute("data-clear-all")) {
      form.querySelectorAll("[name]").forEach(function (el) {
        if (el.name === "sort" || el.type === "submit" || el.type === "button") return;
        clearField(form, el.name, null);
      });
      pendingFocus = { results: true };
    } else {
      if (!clearField(form, link.getAttribute("data-remove-name"), link.getAttribute("data-remove-value"))) return;
      var chips = Array.prototype.slice.call(document.querySelectorAll("a[data-remove-name]"));
      pendingFocus = { chip: chips.indexOf(link) };
    }
    event.preventDefault();
    submit(form);
  });

  // The counts on "Filters", each menu and "More filters" follow the chips the server sent back.
  function setCount(el, n) {
    var count = el.querySelector(".count");
    if (!n) { if (count) count.remove(); el.closest("details") && el.closest("details").classList.remove("is-active"); return; }
    if (!count) {
      count = document.createElement("span");
      count.className = "count";
      el.appendChild(document.createTextNode(" "));
      el.appendChild(count);
    }
    var form = filtersForm();
    var label = (form && form.getAttribute("data-count-label")) || "";
    count.textContent = String(n);
    if (label) {
      var hidden = document.createElement("span");
      hidden.className = "visually-hidden";
      hidden.textContent = " " + label;
      count.appendChild(hidden);
    }
    if (el.closest("details")) el.closest("details").classList.add("is-active");
  }
  function syncCounts(results) {
    var form = filtersForm();
    if (!form) return;
    var chips = Array.prototype.map.call(results.querySelectorAll("a[data-remove-name]"), function (a) {
      return a.getAttribute("data-remove-name");
    });
    var toggle = form.querySelector("[data-filter-toggle]");
    if (toggle) setCount(toggle, chips.length);
    form.querySelectorAll("details[data-filter-menu] > summary").forEach(function (summary) {
      var names = {};
      summary.parentNode.querySelectorAll("[name]").forEach(function (el) { names[el.name] = true; });
      setCount(summary, chips.filter(function (name) { return names[name]; }).length);
    });
  }

  // After the results are swapped in: focus where the user was.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.detail.target || event.detail.target.id !== "results") return;
    var results = event.detail.target;
    syncBulk(results);
    syncCounts(results);
    var focus = pendingFocus;
    pendingFocus = null;
    if (!focus) return;
    var el = null;
    if (focus.header !== undefined && focus.header >= 0) {
      var th = results.querySelectorAll("thead th")[focus.header];
      el = th && th.querySelector("a");
    } else if (focus.chip !== undefined) {
      var chips = results.querySelectorAll("a[data-remove-name]");
      el = chips[Math.min(focus.chip, chips.length - 1)] || null;
    }
    if (!el) {
      el = results.querySelector(".result-count");
      if (el) el.setAttribute("tabindex", "-1");
    }
    if (el) el.focus();
  });

  // Empty parameters and the default sort stay out of the address.
  document.addEventListener("htmx:configRequest", function (event) {
    if (!event.detail.elt || !event.detail.elt.matches || !event.detail.elt.matches("form[data-list-filters]")) return;
    var params = event.detail.parameters;
    var sortEl = event.detail.elt.querySelector("[name=sort]");
    var defaultSort = !sortEl ? null : sortEl.hasAttribute("data-default") ? sortEl.getAttribute("data-default")
      : (sortEl.options && sortEl.options.length ? sortEl.options[0].value : null);
    // Filters whose absence means a default (the actions list: "mine", "open") are sent even when empty.
    var keepEmpty = (event.detail.elt.getAttribute("data-keep-empty") || "").split(" ");
    var names = [];
    if (typeof params.keys === "function") {
      for (var key of params.keys()) if (names.indexOf(key) < 0) names.push(key);
    } else {
      names = Object.keys(params);
    }
    names.forEach(function (name) {
      var values = typeof params.getAll === "function" ? params.getAll(name) : [].concat(params[name]);
      if (keepEmpty.indexOf(name) >= 0) return;
      var kept = values.filter(function (v) { return v !== "" && v !== null && v !== undefined; });
      if (name === "sort" && kept.length === 1 && kept[0] === defaultSort) kept = [];
      if (kept.length === values.length) return;
      if (typeof params.delete === "function") {
        params.delete(name);
        kept.forEach(function (v) { params.append(name, v); });
      } else if (kept.length) {
        params[name] = kept.length === 1 ? kept[0] : kept;
      } else {
        delete params[name];
      }
    });
  });

  // Filter menus: one open at a time; Escape or a click elsewhere closes them (not on a phone's panel).
  function closeMenus(except) {
    document.querySelectorAll("details[data-filter-menu][open]").forEach(function (d) {
      if (d !== except && !d.contains(except)) d.open = false;
    });
  }
  document.addEventListener("click", function (event) {
    var menu = event.target.closest("details[data-filter-menu]");
    if (window.matchMedia("(max-width: 40rem)").matches) return;
    closeMenus(menu);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var menu = event.target.closest && event.target.closest("details[data-filter-menu][open]");
    if (!menu) return;
    menu.open = false;
    menu.querySelector("summary").focus();
    event.stopPropagation();
  }, true);

  // The phone panel.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-filter-toggle]");
    if (!toggle) return;
    var panel = document.getElementById(toggle.getAttribute("aria-controls"));
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    panel.classList.toggle("is-open", open);
  });

  // Counts on the menus' summaries follow the ticks before the results come back.
  document.addEventListener("change", function (event) {
    var menu = event.target.closest && event.target.closest("details[data-filter-menu]");
    if (menu && event.target.type === "checkbox") {
      var n = menu.querySelectorAll("input[type=checkbox]:checked").length;
      menu.classList.toggle("is-active", n > 0);
    }
    var results = event.target.closest && event.target.closest("[data-bulk]");
    if (!results) return;
    if (event.target.hasAttribute("data-select-all")) {
      results.querySelectorAll("input[data-pick]").forEach(function (box) { box.checked = event.target.checked; });
    }
    syncBulk(results);
  });

  function syncBulk(scope) {
    var form = (scope || document).querySelector("[data-bulk]") || (scope && scope.matches && scope.matches("[data-bulk]") ? scope : null);
    if (!form) return;
    var boxes = form.querySelectorAll("input[data-pick]");
    var n = form.querySelectorAll("input[data-pick]:checked").length;
    var all = form.querySelector("[data-select-all]");
    if (all) { all.checked = n > 0 && n === boxes.length; all.indeterminate = n > 0 && n < boxes.length; }
    var count = form.querySelector("[data-bulk-count]");
    if (count) count.textContent = n ? count.getAttribute("data-template").replace("__N__", n) : count.getAttribute("data-zero");
    form.querySelectorAll("[data-bulk-action]").forEach(function (b) { b.disabled = n === 0; });
    form.classList.toggle("has-selection", n > 0);
  }
  document.addEventListener("DOMContentLoaded", function () { syncBulk(document); });
})();
