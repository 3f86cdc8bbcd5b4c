// Swagger UI renders controls without names and scrollable examples keyboards cannot reach
// (WCAG 4.1.2, 2.1.1). As it draws, each parameter's control is named after its parameter and
// each scrollable example joins the tab order.
(function () {
  function label (root) {
    root.querySelectorAll('tr[data-param-name]').forEach(function (row) {
      const name = row.getAttribute('data-param-name')
      row.querySelectorAll('select, input, textarea').forEach(function (control) {
        if (!control.hasAttribute('aria-label') && !control.labels?.length) {
          control.setAttribute('aria-label', name)
        }
      })
    })
    root.querySelectorAll('textarea.body-param__text, .body-param textarea').forEach(function (box) {
      if (!box.hasAttribute('aria-label')) box.setAttribute('aria-label', 'Request body (JSON)')
    })
    root.querySelectorAll('.close-modal').forEach(function (button) {
      if (!button.hasAttribute('aria-label')) button.setAttribute('aria-label', 'Close')
    })
    root.querySelectorAll('.copy-to-clipboard button').forEach(function (button) {
      if (!button.hasAttribute('aria-label')) button.setAttribute('aria-label', 'Copy to clipboard')
    })
    // "Authorize" buttons whose accessible name ("Apply credentials") hides the visible word.
    root.querySelectorAll('button.authorize[aria-label]').forEach(function (button) {
      button.removeAttribute('aria-label')
    })
    root.querySelectorAll('.microlight, pre').forEach(function (block) {
      if (!block.hasAttribute('tabindex')) {
        block.setAttribute('tabindex', '0')
      }
    })
  }
  // The Authorize dialog is drawn outside #swagger-ui's first child, so the whole body is watched.
  const target = document.body
  new MutationObserver(function () { label(target) }).observe(target, { childList: true, subtree: true })
})()
