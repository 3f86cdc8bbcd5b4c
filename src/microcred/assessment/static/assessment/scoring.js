// The scoring page, enhanced: annotation marks seek the player, notes filter by rubric
// component, the rubric adds up points and shows the band as details are checked, and the
// minutes spent fill in from the time on the page. Without JavaScript the page still works:
// the server counts the points and places the band when the score is sent.
(function () {
  "use strict";

  function formatBand(band) {
    return band ? band.label + (band.passing ? " (passing)" : " (not passing)") : "";
  }

  // ------------------------------------------------------------------ evidence marks
  document.querySelectorAll("[data-evidence-file]").forEach(function (box) {
    var player = box.querySelector("[data-player]");
    box.querySelectorAll("button.mark").forEach(function (button) {
      if (!player) { button.disabled = true; return; }
      button.addEventListener("click", function () {
        player.currentTime = Number(button.dataset.seconds || 0);
        var playing = player.play();
        if (playing && playing.catch) { playing.catch(function () {}); }
        player.focus();
      });
    });
    var filter = box.querySelector("[data-mark-filter]");
    if (filter) {
      filter.addEventListener("change", function () {
        box.querySelectorAll(".mark-list li").forEach(function (item) {
          item.hidden = filter.value !== "" && item.dataset.component !== filter.value;
        });
      });
    }
  });

  // ------------------------------------------------------------------ the rubric
  var form = document.querySelector("[data-score-form]");
  var bandsData = document.getElementById("rubric-bands");
  if (!form || !bandsData) { return; }
  var bands = JSON.parse(bandsData.textContent).slice().sort(function (a, b) { return a.min - b.min; });
  var totalOut = form.querySelector("[data-total]");

  function bandFor(total) {
    // A total below the lowest band still falls into the lowest band, as on the server.
    var found = bands[0];
    bands.forEach(function (band) { if (total >= band.min) { found = band; } });
    return found;
  }

  function recount() {
    var total = 0;
    var grandMax = 0;
    form.querySelectorAll("[data-component]").forEach(function (fieldset) {
      var max = Number(fieldset.dataset.max);
      var points = 0;
      fieldset.querySelectorAll("input[data-points]:checked").forEach(function (input) {
        points += Number(input.dataset.points);
      });
      var out = fieldset.querySelector("[data-component-points]");
      out.hidden = false;
      out.textContent = points + " of " + max + " points" +
        (points > max ? ": more than this component's maximum, uncheck some details" : "");
      total += points;
      grandMax += max;
    });
    totalOut.hidden = false;
    totalOut.textContent = "Total: " + total + " of " + grandMax + " points. Band: " + formatBand(bandFor(total)) + ".";
  }

  form.addEventListener("change", function (event) {
    if (event.target.matches("input[data-points]")) { recount(); }
  });
  recount();

  // ------------------------------------------------------------------ minutes spent
  var minutes = form.querySelector("input[name=minutes_spent]");
  if (minutes) {
    var opened = Date.now();
    var edited = minutes.value !== "";
    minutes.addEventListener("input", function () { edited = true; });
    var tick = function () {
      if (!edited) { minutes.value = Math.max(1, Math.ceil((Date.now() - opened) / 60000)); }
    };
    tick();
    window.setInterval(tick, 30000);
  }
})();
