// The fusion editor's auto-tune panel: polls a running run's progress JSON every second; when it
// finishes the page reloads to show the proposal (unless the operator has unsaved edits: then a link
// does). "Accept" loads the proposed weights into the sliders, which refreshes the live preview;
// the operator reviews and saves through the normal form.
(function () {
  "use strict";
  var box = document.getElementById("autotune");
  var form = document.getElementById("fusion-form");
  if (!box || !form) return;
  var d = box.dataset;
  var dirty = false;
  form.addEventListener("input", function (ev) { if (ev.isTrusted) dirty = true; });

  function note(text) {
    var p = document.getElementById("autotune-note");
    p.textContent = text;
    p.hidden = false;
  }

  function update(p) {
    var bar = document.getElementById("autotune-bar");
    if (bar) {
      bar.style.width = p.percent + "%";
      bar.parentNode.setAttribute("aria-valuenow", p.percent);
    }
    var status = document.getElementById("autotune-status");
    status.textContent = p.status_label;
    status.className = "badge " + p.status;
    document.getElementById("autotune-phase").textContent = p.phase + " · " + Math.round(p.percent) + "%";
  }
  function done(p) {
    if (!dirty) { location.hash = "autotune"; location.reload(); return; }
    var link = document.createElement("a");
    link.href = location.pathname + "#autotune";
    link.textContent = p.status_label;
    link.addEventListener("click", function () { location.reload(); });
    note("");
    document.getElementById("autotune-note").appendChild(link);
  }
  // the shared job poller (common.js)
  if (d.progressUrl && d.finished === "0") window.pollJob(d.progressUrl, update, done);

  var accept = document.getElementById("autotune-accept-form");
  if (accept) {
    accept.addEventListener("submit", function (ev) {
      ev.preventDefault();
      fetch(accept.action, {method: "POST", body: new FormData(accept), credentials: "same-origin",
                            headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (p) {
          if (p.error) { note(p.error); return; }
          Object.keys(p.weights).forEach(function (signal) {
            var slider = form.querySelector('input[name="weight_' + signal + '"]');
            if (!slider) return;
            slider.value = p.weights[signal];
            slider.dispatchEvent(new Event("input", {bubbles: true}));  // updates the output and the preview
          });
          form.dataset.autotuneAccepted = String(p.run);
          document.getElementById("autotune-accept").disabled = true;
          note(d.labelLoaded);
        });
    });
  }
})();
