// The add-a-rule form shows every kind's fields without JavaScript; with it, only the
// fieldset of the kind chosen is shown, so a busy HR officer sees just what they must fill
// in. The server reads only the chosen kind's fields either way.
(function () {
  "use strict";
  var form = document.querySelector("form.rule-kinds");
  if (!form) {
    return;
  }
  var radios = form.querySelectorAll('input[name="kind"]');
  var fieldsets = form.querySelectorAll("fieldset[data-kind]");

  function show() {
    var chosen = form.querySelector('input[name="kind"]:checked');
    fieldsets.forEach(function (fieldset) {
      fieldset.hidden = !chosen || fieldset.getAttribute("data-kind") !== chosen.value;
    });
  }

  radios.forEach(function (radio) {
    radio.addEventListener("change", show);
  });
  show();
})();
