/* Draws every <canvas data-chart="ID"> on the page with Chart.js (vendor/chartjs/chart.umd.min.js,
   loaded before this file). The figures come from the json_script element with that id:

     {"type": "bar", "title": "...", "labels": ["..."],
      "datasets": [{"label": "...", "data": [12.5, null, ...]}], "unit": "%" | "days" | ""}

   A null is a figure that cannot be computed (nothing to divide by): no bar is drawn. Every chart
   has the same numbers in a table beside it, so the canvas is decoration for those who can see
   it; without JavaScript the tables still say everything. Reused by any page that draws charts. */
(function () {
  "use strict";

  // Dark enough against white for WCAG's 3:1 for graphics, and told apart without colour by
  // the legend order and the table beside each chart.
  var COLOURS = ["#1d4f91", "#b3541e", "#2e7d32", "#6a3d9a", "#8a6d00", "#00695c"];

  function suffix(unit) {
    if (unit === "%") return "%";
    if (unit) return " " + unit;
    return "";
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source || typeof window.Chart === "undefined") return;
    var spec;
    try {
      spec = JSON.parse(source.textContent);
    } catch (error) {
      return;
    }
    var unit = suffix(spec.unit || "");
    var datasets = (spec.datasets || []).map(function (dataset, i) {
      var colour = COLOURS[i % COLOURS.length];
      return {
        label: dataset.label,
        data: dataset.data,
        backgroundColor: colour,
        borderColor: colour,
        borderWidth: 1
      };
    });
    var chart = new window.Chart(canvas, {
      type: spec.type || "bar",
      data: { labels: spec.labels || [], datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          title: { display: Boolean(spec.title), text: spec.title || "" },
          legend: { display: datasets.length > 1 },
          tooltip: {
            callbacks: {
              label: function (context) {
                var value = context.parsed.y;
                var name = context.dataset.label ? context.dataset.label + ": " : "";
                return name + (value === null ? "no figure" : value + unit);
              }
            }
          }
        },
        scales: {
          x: { ticks: { autoSkip: false, maxRotation: 60 } },
          y: {
            beginAtZero: true,
            suggestedMax: spec.unit === "%" ? 100 : undefined,
            ticks: {
              callback: function (value) {
                return value + unit;
              }
            }
          }
        }
      }
    });
    canvas.setAttribute("data-drawn", "true");
    return chart;
  }

  function drawAll() {
    var canvases = document.querySelectorAll("canvas[data-chart]");
    for (var i = 0; i < canvases.length; i++) draw(canvases[i]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
