// The portfolio page, made quicker with JavaScript; every form also works without it.
//
// - Written parts: a live word count (the same rule as the server's word_count: runs of
//   non-space characters) and autosave a few seconds after typing stops and on leaving the box.
// - Files: when the uploader (uploader.js) finishes, attach the upload to its part.
// - Notes on video: one click takes the player's current time; a note's time seeks the player.
(function () {
  'use strict'

  const AUTOSAVE_DELAY = 3000

  function countWords (text) {
    const words = text.match(/\S+/g)
    return words ? words.length : 0
  }

  function plural (n, word) {
    return `${n.toLocaleString()} ${word}${n === 1 ? '' : 's'}`
  }

  function csrfToken (form) {
    const input = form.querySelector('input[name=csrfmiddlewaretoken]')
    return input ? input.value : ''
  }

  async function postForm (url, body, token) {
    const response = await fetch(url, {
      method: 'POST',
      body,
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'X-CSRFToken': token }
    })
    const data = await response.json().catch(() => ({}))
    if (!response.ok) {
      throw new Error(data.error || `The server could not save it (error ${response.status}).`)
    }
    return data
  }

  function setUpWrittenPart (form) {
    const textarea = form.querySelector('textarea')
    const counter = form.querySelector('[data-role=word-count]')
    const status = form.querySelector('[data-role=save-status]')
    const limit = parseInt(form.dataset.wordLimit, 10) || 0
    let timer = null
    // What the server holds is the textarea's original content: someone may type before this
    // script runs (a slow connection), and that text must still count as unsaved.
    let saved = textarea.defaultValue
    let inFlight = null

    function showCount () {
      const words = countWords(textarea.value)
      let text = plural(words, 'word') + (limit ? ` of ${limit.toLocaleString()}` : '') + '.'
      if (limit && words > limit) {
        text += ` ${plural(words - limit, 'word')} over the limit: shorten it to save.`
      }
      counter.textContent = text
      counter.classList.toggle('errorlist', Boolean(limit && words > limit))
    }

    async function save () {
      clearTimeout(timer)
      if (textarea.value === saved) return
      if (limit && countWords(textarea.value) > limit) {
        status.textContent = 'Not saved: the answer is over the word limit.'
        return
      }
      const value = textarea.value
      status.textContent = 'Saving…'
      inFlight = postForm(form.action, new FormData(form), csrfToken(form))
      try {
        const data = await inFlight
        saved = value
        status.textContent = `Draft saved at ${data.saved}.`
      } catch (err) {
        status.textContent = `Not saved: ${err.message}`
      } finally {
        inFlight = null
      }
    }

    textarea.addEventListener('input', () => {
      showCount()
      clearTimeout(timer)
      timer = setTimeout(save, AUTOSAVE_DELAY)
    })
    textarea.addEventListener('blur', save)
    // Clicking Save blurs the box first: let that autosave finish, then post the form, so
    // the two saves never race each other.
    form.addEventListener('submit', (event) => {
      clearTimeout(timer)
      if (!inFlight) return
      event.preventDefault()
      inFlight.catch(() => {}).then(() => form.submit())
    })
    showCount()
    if (textarea.value !== saved) timer = setTimeout(save, AUTOSAVE_DELAY)
  }

  function setUpAttaching (container) {
    container.addEventListener('upload:complete', async (event) => {
      const body = new FormData()
      body.append('upload', event.detail.uploadId)
      const token = container.querySelector('[data-csrf]')?.dataset.csrf || ''
      const error = container.querySelector('[data-role=error]')
      try {
        await postForm(container.dataset.attachUrl, body, token)
        window.location.reload()
      } catch (err) {
        if (error) error.textContent = err.message
      }
    })
  }

  function timestamp (seconds) {
    const whole = Math.floor(seconds)
    return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`
  }

  function setUpNoteForm (form) {
    const player = document.getElementById(form.dataset.playerId)
    const button = form.querySelector('[data-role=take-time]')
    const field = form.querySelector('input[name$="-time"], input[name=time]')
    if (!player || !button || !field) return
    button.hidden = false
    button.addEventListener('click', () => {
      player.pause()
      field.value = timestamp(player.currentTime)
      form.querySelector('textarea')?.focus()
    })
  }

  function setUpSeeking (button) {
    button.addEventListener('click', () => {
      const player = document.getElementById(button.dataset.playerId)
      if (!player) return
      player.currentTime = Number(button.dataset.seek)
      player.focus()
      player.play().catch(() => {})
    })
  }

  function setUpSubmitOnce (form) {
    form.addEventListener('submit', () => {
      // The server makes one submission however often it is posted; this spares the wait.
      setTimeout(() => { form.querySelector('button[type=submit]').disabled = true }, 0)
    })
  }

  document.querySelectorAll('form[data-autosave]').forEach(setUpWrittenPart)
  document.querySelectorAll('[data-attach-url]').forEach(setUpAttaching)
  document.querySelectorAll('form[data-note-form]').forEach(setUpNoteForm)
  document.querySelectorAll('[data-seek]').forEach(setUpSeeking)
  document.querySelectorAll('form[data-submit-once]').forEach(setUpSubmitOnce)
})()
