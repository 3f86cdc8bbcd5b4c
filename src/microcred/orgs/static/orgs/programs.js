// The program settings page: a search box that narrows the list of micro-credentials a
// district may fund. Without JavaScript the whole list shows (the box stays hidden); ticked
// boxes that the filter hides are still sent with the form.
(function () {
  "use strict";
  document.querySelectorAll("input[data-filters]").forEach(function (input) {
    var list = document.getElementById(input.dataset.filters);
    var box = input.closest(".mc-filter");
    var status = document.getElementById(input.getAttribute("aria-describedby"));
    if (!list || !box) return;
    box.hidden = false;
    var items = Array.prototype.slice.call(list.querySelectorAll("li"));
    input.addEventListener("input", function () {
      var term = input.value.trim().toLowerCase();
      var shown = 0;
      items.forEach(function (item) {
        var match = !term || item.textContent.toLowerCase().indexOf(term) !== -1;
        item.hidden = !match;
        if (match) shown += 1;
      });
      if (status) {
        status.textContent = term ? shown + " of " + items.length + " shown" : "";
      }
    });
  });
})();
