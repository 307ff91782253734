// Search as you type on the people page: progressive enhancement of a plain GET form.
// Without JavaScript the form submits normally; with it, results refresh in place.
// Typing searches from three characters on (an empty box lists everyone again); a
// shorter term searches when Enter is pressed, and the server then matches it only at
// the start of names (members.search.SHORT_TERM): the same rule, whoever sends the query.
(function () {
  "use strict";
  var form = document.querySelector("form[data-live-search]");
  if (!form || !window.fetch) return;
  var target = document.querySelector(form.dataset.liveSearch);
  var timer = null;
  var inFlight = null;
  var SHORT_TERM = 3;
  var hint = document.getElementById("search-hint");
  // A polite live region outside the results: it announces "14 people found" after a
  // refresh, where a live results block had the whole table read out on every keystroke.
  var status = document.getElementById("results-status");

  function announce() {
    if (!status) return;
    var source = target.querySelector("[data-results-status]");
    var text = source ? source.textContent.replace(/\s+/g, " ").trim() : "";
    // The same text again is not re-announced by every screen reader: clear it first.
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 50);
  }

  // While the box holds a term too short to search as you type, the results below are
  // still those of the last search: say so, and how to search for the short term.
  function showShortTermHint(value) {
    if (!hint) return;
    // The sentence comes translated from the page (data-text), the term put in its place.
    hint.textContent = hint.dataset.text.replace("%(term)s", value.trim());
    hint.hidden = false;
    target.classList.add("stale");
  }

  function hideShortTermHint() {
    if (!hint) return;
    hint.hidden = true;
    target.classList.remove("stale");
  }

  // What the server counts: the term's letters and digits, spaces and punctuation aside.
  function termLength(value) {
    return value.replace(/[\s\p{P}\p{S}]/gu, "").length;
  }

  function refresh() {
    var params = new URLSearchParams(new FormData(form));
    var url = form.action + "?" + params.toString();
    if (inFlight) inFlight.abort();
    inFlight = new AbortController();
    fetch(url, { headers: { "HX-Request": "true" }, signal: inFlight.signal, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        hideShortTermHint();
        target.innerHTML = html;
        history.replaceState(null, "", "?" + params.toString());
        announce();
      })
      .catch(function () { /* a newer keystroke aborted this one, or the server failed: the form still works */ });
  }

  form.addEventListener("input", function (event) {
    clearTimeout(timer);
    if (event.target.type === "search") {
      var length = termLength(event.target.value);
      if (length > 0 && length < SHORT_TERM) {
        showShortTermHint(event.target.value); // a short term waits for Enter
        return;
      }
      hideShortTermHint();
      timer = setTimeout(refresh, 200);
    } else {
      timer = setTimeout(refresh, 0);
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(timer);
    refresh();
  });
})();
