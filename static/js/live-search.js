// Search as you type on the people page: progressive enhancement of a plain GET form.
// Without JavaScript the form submits normally; with it, results refresh in place.
(function () {
  "use strict";
  var form = document.querySelector("form[data-live-search]");
  if (!form || !window.fetch) return;
  var target = document.querySelector(form.dataset.liveSearch);
  var timer = null;
  var inFlight = null;

  function refresh() {
    var params = new URLSearchParams(new FormData(form));
    var url = form.action + "?" + params.toString();
    if (inFlight) inFlight.abort();
    inFlight = new AbortController();
    fetch(url, { headers: { "HX-Request": "true" }, signal: inFlight.signal, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        target.innerHTML = html;
        history.replaceState(null, "", "?" + params.toString());
      })
      .catch(function () { /* a newer keystroke aborted this one, or the server failed: the form still works */ });
  }

  form.addEventListener("input", function (event) {
    clearTimeout(timer);
    timer = setTimeout(refresh, event.target.type === "search" ? 200 : 0);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(timer);
    refresh();
  });
})();
