// RCF Tracker's site script (issue 12): the phone menu, the "/" search shortcut, toasts after htmx
// saves, confirmation dialogs, and focus on an error summary. Loaded in <head> without defer so that
// <html class="js"> is set before the first paint; everything else waits for the DOM or listens on
// the document. Every feature degrades to plain links and forms without JavaScript.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // --- Phone menu ------------------------------------------------------------------------------
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-menu-toggle]");
    if (!toggle) return;
    var menu = document.getElementById(toggle.getAttribute("aria-controls"));
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    menu.classList.toggle("is-open", open);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var toggle = document.querySelector("[data-menu-toggle][aria-expanded=true]");
    if (toggle) { toggle.click(); toggle.focus(); }
  });

  // --- "/" focuses the header search box (not while typing somewhere) ---------------------------
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var el = event.target;
    if (el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName))) return;
    var box = document.getElementById("site-search");
    if (!box) return;
    event.preventDefault();
    box.focus();
    box.select();
  });

  // --- Toasts ----------------------------------------------------------------------------------
  // window.rcfToast(message, level): also used by page scripts. The region is a polite live region,
  // so a screen reader hears the message; a toast stays until closed if it reports an error.
  function toast(message, level) {
    var region = document.getElementById("toasts");
    if (!region || !message) return;
    var item = document.createElement("div");
    item.className = "toast " + (level || "success");
    var text = document.createElement("p");
    text.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = region.getAttribute("data-close-label") || "×";
    close.setAttribute("aria-label", document.documentElement.lang === "ko" ? "닫기" : "Close");
    close.addEventListener("click", function () { item.remove(); });
    item.appendChild(text);
    item.appendChild(close);
    region.appendChild(item);
    if (level !== "error") setTimeout(function () { item.remove(); }, 6000);
  }
  window.rcfToast = toast;
  // The server sends HX-Trigger: {"rcfToast": {"message": ..., "level": ...}} (or a list of them).
  document.addEventListener("rcfToast", function (event) {
    var detail = event.detail || {};
    var items = Array.isArray(detail.value) ? detail.value : (detail.messages || [detail]);
    items.forEach(function (m) { toast(m.message, m.level); });
  });
  // A failed htmx request says so where the user is looking, instead of doing nothing.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.status === 409) return;  // the row shows what changed (actions.js)
    toast(document.documentElement.lang === "ko" ? "저장하지 못했습니다. 다시 시도하십시오." :
      "Not saved: the server refused the change. Please try again.", "error");
  });
  document.addEventListener("htmx:sendError", function () {
    toast(document.documentElement.lang === "ko" ? "서버에 연결할 수 없습니다. 저장되지 않았습니다." :
      "Could not reach the server: nothing was saved.", "error");
  });

  // --- Confirmation ----------------------------------------------------------------------------
  // <form data-confirm="What this does and what it breaks"> or an htmx control with data-confirm.
  function confirmThen(text, proceed, okLabel) {
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") {
      if (window.confirm(text)) proceed();
      return;
    }
    dialog.querySelector("#confirm-dialog-text").textContent = text;
    var ok = dialog.querySelector("[data-confirm-ok]");
    if (!ok.hasAttribute("data-default-label")) ok.setAttribute("data-default-label", ok.textContent);
    ok.textContent = okLabel || ok.getAttribute("data-default-label");
    dialog.returnValue = "";
    dialog.addEventListener("close", function once() {
      dialog.removeEventListener("close", once);
      if (dialog.returnValue === "confirm") proceed();
    });
    dialog.showModal();
    dialog.querySelector("[data-confirm-cancel]").focus();  // the safe answer is the default
  }
  document.addEventListener("click", function (event) {
    var dialog = event.target.closest("#confirm-dialog");
    if (!dialog) return;
    if (event.target.closest("[data-confirm-ok]")) dialog.close("confirm");
    else if (event.target.closest("[data-confirm-cancel]")) dialog.close("cancel");
  });
  window.rcfConfirm = confirmThen;
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-confirm") || form.hasAttribute("data-hx-post")) return;
    if (form.dataset.confirmed === "yes") { delete form.dataset.confirmed; return; }
    event.preventDefault();
    var submitter = event.submitter;
    var label = (submitter && submitter.textContent.trim()) || form.getAttribute("data-confirm-label");
    confirmThen(form.getAttribute("data-confirm"), function () {
      form.dataset.confirmed = "yes";
      if (form.requestSubmit) form.requestSubmit(submitter || undefined); else form.submit();
    }, label);
  }, true);
  document.addEventListener("htmx:confirm", function (event) {
    var el = event.detail.elt;
    var text = el && el.closest("[data-confirm]") && el.closest("[data-confirm]").getAttribute("data-confirm");
    if (!text) return;
    event.preventDefault();
    confirmThen(text, function () { event.detail.issueRequest(true); });
  });

  // --- Error summary ---------------------------------------------------------------------------
  // After an invalid submit the summary takes the focus (a screen reader reads it; Tab goes on to the
  // links); a link moves to its field, or to the searchable picker that stands in for it.
  function focusSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) { summary.focus(); summary.scrollIntoView({block: "start"}); }
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-error-summary] a[href^='#']");
    if (!link) return;
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) return;
    event.preventDefault();
    var stand = field.tomselect ? field.tomselect.control_input : null;
    var target = stand || field;
    if (target.type === "hidden" || target.hidden) target = field.closest(".field") || target;
    (field.closest(".field") || target).scrollIntoView({block: "center"});
    target.focus();
  });
  document.addEventListener("DOMContentLoaded", focusSummary);
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.elt && event.detail.elt.querySelector && event.detail.elt.querySelector("[data-error-summary]")) focusSummary();
  });
})();
