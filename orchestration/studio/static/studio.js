// Draw every chart of the page from its data-chart JSON (plotly.js, served locally).
document.querySelectorAll("[data-chart]").forEach(function (element) {
  var spec = JSON.parse(element.getAttribute("data-chart"));
  Plotly.newPlot(element, spec.data, spec.layout, {displaylogo: false, responsive: true})
    .then(function () { element.setAttribute("data-rendered", "true"); });
});
