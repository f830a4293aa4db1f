// Draws every Plotly chart of a page: an element with data-figure gets the figure stored in the JSON script
// element (json_script) named by its data-figure-source, or else by its id without the "chart-" prefix.
// A static file, not an inline script: the Content-Security-Policy allows scripts from this site only.
document.querySelectorAll("[data-figure]").forEach(function (el) {
  var source = document.getElementById(el.dataset.figureSource || el.id.replace(/^chart-/, ""));
  if (!source) { return; }
  var fig = JSON.parse(source.textContent);
  Plotly.newPlot(el, fig.data, fig.layout, {responsive: true, displaylogo: false});
});
