// The import page: through the shared job poller (common.js), updates the bar, figures and counts in place.
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box || box.dataset.finished === "1") return;
  var d = box.dataset;
  var fmt = new Intl.NumberFormat(document.documentElement.lang || undefined);
  function eta(s) {
    if (s === null || s === undefined) return "";
    var m = Math.floor(s / 60), r = s % 60;
    return " · " + (m ? m + " min " : "") + r + " s " + d.labelEta;
  }
  window.pollJob(d.url, function (p) {
    var bar = document.getElementById("import-bar");
    bar.style.width = p.percent + "%";
    bar.parentNode.setAttribute("aria-valuenow", p.percent);
    document.getElementById("import-status").textContent = p.status_label;
    document.getElementById("import-status").className = "badge " + p.status;
    document.getElementById("import-phase").textContent =
      p.phase === "checking" ? d.labelChecking : (p.phase === "importing" ? d.labelImporting : "");
    document.getElementById("import-figures").textContent =
      fmt.format(p.rows_done) + " / " + (p.rows_total === null ? "?" : fmt.format(p.rows_total)) + " " + d.labelRows +
      (p.rows_per_s ? " · " + fmt.format(p.rows_per_s) + " " + d.labelRate : "") + eta(p.eta_s);
    box.querySelectorAll("[data-count]").forEach(function (el) { el.textContent = fmt.format(p[el.dataset.count]); });
  }, function () { location.reload(); });
})();
