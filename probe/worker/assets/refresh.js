// Auto-refresh: every few seconds fetch the live part of the page
// (?fragment=live) and swap it in, without a reload. ?refresh=N sets the
// period in seconds (1 to 300, default 5). A failed fetch keeps the old
// table and says so; a hidden tab does not poll.
(function () {
  "use strict";
  var live = document.getElementById("live");
  var state = document.getElementById("refresh-state");
  if (!live || !state || !window.fetch) return;
  var every = Number(new URLSearchParams(location.search).get("refresh")) || 5;
  every = Math.min(Math.max(every, 1), 300);
  var url = new URL(location.href);
  url.searchParams.set("fragment", "live");
  url.hash = "";
  var busy = false;

  function utc(d) { return d.toISOString().slice(11, 19) + " UTC"; }

  function show(text, stale) {
    state.textContent = text;
    state.className = stale ? "refresh stale" : "refresh";
  }

  function tick() {
    if (busy || document.hidden) return;
    busy = true;
    fetch(url, { cache: "no-store", headers: { Accept: "text/html" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.text();
      })
      .then(function (html) {
        live.innerHTML = html;
        var snap = live.querySelector("[data-title]");
        if (snap) document.title = snap.getAttribute("data-title");
        show("live · refreshed " + utc(new Date()) + " · every " + every + " s", false);
      })
      .catch(function (err) {
        var snap = live.querySelector("[data-generated]");
        var when = snap ? utc(new Date(snap.getAttribute("data-generated"))) : "earlier";
        show("refresh failed (" + err.message + "): showing data from " + when, true);
      })
      .then(function () { busy = false; }, function () { busy = false; });
  }

  show("live · every " + every + " s", false);
  setInterval(tick, every * 1000);
  document.addEventListener("visibilitychange", tick);
})();
