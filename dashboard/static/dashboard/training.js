// The training job page: through the shared job poller (common.js), updates the bar,
// figures, curve (Plotly.react) and log tail in place; reloads once when the job finishes.
(function () {
  "use strict";
  var box = document.getElementById("job-progress");
  var chart = document.getElementById("job-chart");
  if (!box) return;
  var d = box.dataset;
  var fig = JSON.parse(document.getElementById("job-chart-data").textContent);
  var config = {responsive: true, displaylogo: false};
  Plotly.newPlot(chart, fig.data, fig.layout, config);
  if (d.finished === "1") return;
  var fmt = new Intl.NumberFormat(document.documentElement.lang || undefined, {maximumFractionDigits: 1});
  function eta(s) {
    if (s === null || s === undefined) return "";
    var m = Math.floor(s / 60), r = s % 60;
    return " · " + (m ? m + " min " : "") + r + " s " + d.labelLeft;
  }
  window.pollJob(d.url, function (p) {
    var bar = document.getElementById("job-bar");
    bar.style.width = p.percent + "%";
    bar.parentNode.setAttribute("aria-valuenow", p.percent);
    var status = document.getElementById("job-status");
    status.textContent = p.status_label;
    status.className = "badge " + p.status;
    document.getElementById("job-phase").textContent = p.phase + (p.total ? " " + p.done + "/" + p.total : "");
    document.getElementById("job-figures").textContent = fmt.format(p.percent) + "%" +
      (p.samples_per_s ? " · " + fmt.format(p.samples_per_s) + " " + d.labelRate : "") + eta(p.eta_s);
    document.getElementById("job-device").textContent = p.device || "—";
    document.getElementById("job-log").textContent = p.log;
    Plotly.react(chart, p.figure.data, p.figure.layout, config);
  }, function () { location.reload(); });
})();
