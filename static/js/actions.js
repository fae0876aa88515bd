// Action items: a "Done" answered 409 (the action changed since the page was
// read) still replaces its row, which then shows the action as it is now and
// why nothing was done. htmx swaps only 2xx answers by default.
document.addEventListener("htmx:beforeSwap", function (event) {
  var target = event.detail.target;
  if (event.detail.xhr.status === 409 && target && target.id && target.id.indexOf("action-") === 0) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
