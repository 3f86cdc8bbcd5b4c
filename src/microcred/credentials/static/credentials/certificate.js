// The certificate's Print button: shown only where JavaScript can open the print window.
(function () {
  'use strict'
  document.querySelectorAll('[data-print]').forEach((button) => {
    button.hidden = false
    button.addEventListener('click', () => window.print())
  })
})()
