// Draws the reliability charts from the numbers the page prints in its tables
// (json_script "reliability-charts"); without JavaScript the tables say it all.
(function () {
  "use strict";
  var source = document.getElementById("reliability-charts");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  var charts = JSON.parse(source.textContent);
  var still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  // Colours with at least 3:1 contrast on white (WCAG 1.4.11), told apart by dash as well.
  var blue = "#1f5fa8";
  var orange = "#a34a00";

  charts.forEach(function (data) {
    var line = document.querySelector('canvas[data-agreement="' + data.key + '"]');
    if (line) {
      new window.Chart(line, {
        type: "line",
        data: {
          labels: data.months,
          datasets: [
            { label: "Exact agreement (%)", data: data.exact, borderColor: blue, backgroundColor: blue, spanGaps: false },
            { label: data.adjacent_label + " (%)", data: data.adjacent, borderColor: orange, backgroundColor: orange, borderDash: [6, 4], spanGaps: false }
          ]
        },
        options: {
          animation: still ? false : undefined,
          scales: { y: { min: 0, max: 100, title: { display: true, text: "Percent of pairs" } } }
        }
      });
    }
    var bars = document.querySelector('canvas[data-severity="' + data.key + '"]');
    if (bars && data.assessors.length) {
      new window.Chart(bars, {
        type: "bar",
        data: {
          labels: data.assessors,
          datasets: [{ label: "Severity (points from the reference)", data: data.severity, backgroundColor: blue }]
        },
        options: {
          animation: still ? false : undefined,
          indexAxis: "y",
          scales: { x: { title: { display: true, text: "Points above (+) or below (-) the reference" } } }
        }
      });
    }
  });
})();
