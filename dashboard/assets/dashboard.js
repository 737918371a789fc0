// falcops dashboard: replaces the fleet section with each server-sent
// update; falls back to polling the fragment when the stream fails.
(function () {
  "use strict";
  var fleet = document.getElementById("fleet");
  var live = document.getElementById("live");
  var updates = 0;
  function state(s) { live.dataset.state = s; live.textContent = s; }
  function replace(html) {
    fleet.innerHTML = html;
    updates++;
    document.body.dataset.updates = String(updates);
  }
  function poll() {
    state("polling");
    fetch("/dashboard/fragment", { cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(replace)
      .catch(function () { state("offline"); })
      .finally(function () { setTimeout(poll, 5000); });
  }
  // The pause before a wave opens counts down between updates.
  function countdown() {
    document.querySelectorAll("[data-opens-at]").forEach(function (el) {
      var s = Math.round((Date.parse(el.dataset.opensAt) - Date.now()) / 1000);
      if (s <= 0) { el.textContent = "opening"; return; }
      var m = Math.floor(s / 60), h = Math.floor(m / 60);
      el.textContent = "opens in " + (h > 0 ? h + "h" + String(m % 60).padStart(2, "0") + "m" :
        m > 0 ? m + "m" + String(s % 60).padStart(2, "0") + "s" : s + "s");
    });
  }
  setInterval(countdown, 1000);
  if (!window.EventSource) { poll(); return; }
  var failures = 0;
  var es = new EventSource("/dashboard/updates");
  es.onopen = function () { failures = 0; state("live"); };
  es.addEventListener("fleet", function (e) { replace(e.data); });
  es.onerror = function () {
    if (++failures >= 3) { es.close(); poll(); }
    else { state("reconnecting"); }
  };
})();
