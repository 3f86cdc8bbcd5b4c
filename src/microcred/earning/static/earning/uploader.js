// The evidence uploader: Uppy's AWS S3 plugin (multipart) driven by our upload endpoints.
//
// One protocol for both storages: we create the upload, sign parts (several per request, ahead
// of sending: PartSigner), list stored parts, complete and abort through /uploads/api/ (JSON,
// CSRF-protected); each part is PUT to the URL the server signs, which is the S3 bucket in
// production and our own part endpoint on local disk. Uppy 5 is used (not 6) because its
// plugin takes these steps as functions, so our requests carry the CSRF header and our error
// messages reach the person.
//
// Usage: render earning/uploads/_uploader.html, load this module; every [data-uploader]
// element mounts itself. mountUploader(element, options) does it by hand; its `ready()`
// loads Uppy and resolves to it.
//
// Uppy (590 KB, about 170 KB compressed) is fetched only when the person heads for the file
// chooser (focus, pointer) or picks a file, never with the page: most visits to a page that
// can upload do not upload, and this module alone is a few KB.
// On success the element dispatches "upload:complete" (detail: {uploadId, name}) and the
// body gets "uploads-changed".

const MiB = 1024 * 1024
const MAX_PARTS = 10000
const DEFAULT_PART_SIZE = 16 * MiB
const LARGE_PART_SIZE = 64 * MiB
const PARTS_PER_FILE = 16
const ANNOUNCE_EVERY = 25 // percent: how often screen readers hear the progress

// A sixteenth of the file, from 16 MiB up to 64 MiB: a file of up to 256 MiB goes in 16 MiB
// parts, so a dropped connection loses little of it. Larger files take larger parts, since
// every part costs a request, a disk sync and its bookkeeping (with 16 MiB parts, a GiB took
// half again the server's CPU: issue 8); and even a 600 GB file stays within S3's 10,000
// parts. policy.browser_part_size on the server follows the same rule.
export function partSizeFor (size) {
  const share = Math.ceil(size / PARTS_PER_FILE / MiB) * MiB
  const needed = Math.ceil(size / MAX_PARTS / MiB) * MiB
  return Math.max(needed, Math.min(LARGE_PART_SIZE, Math.max(DEFAULT_PART_SIZE, share)))
}

// Sizes as the server words them (Django's filesizeformat: steps of 1024).
export function formatBytes (bytes) {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit += 1
  }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(1)} ${units[unit]}`
}

function formatWait (seconds) {
  if (!Number.isFinite(seconds) || seconds <= 0) return ''
  if (seconds < 90) return 'less than 2 minutes left'
  if (seconds < 5400) return `about ${Math.round(seconds / 60)} minutes left`
  return `about ${Math.round(seconds / 3600)} hours left`
}

class ApiError extends Error {
  constructor (message, status, code) {
    super(message)
    this.status = status
    this.code = code
  }
}

// Our JSON endpoints (see earning/urls_uploads.py).
class UploadApi {
  constructor (base, csrfToken) {
    this.base = base
    this.csrfToken = csrfToken
  }

  async request (path, { method = 'GET', body, signal } = {}) {
    const headers = { Accept: 'application/json' }
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    if (method !== 'GET') headers['X-CSRFToken'] = this.csrfToken
    let response
    try {
      response = await fetch(this.base + path, {
        method,
        headers,
        signal,
        credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body)
      })
    } catch (err) {
      if (err.name === 'AbortError') throw err
      throw new ApiError('The connection to the server was lost.', 0, 'network')
    }
    const data = await response.json().catch(() => ({}))
    if (!response.ok) {
      throw new ApiError(
        data.error || `The server could not take the upload (error ${response.status}).`,
        response.status,
        data.code
      )
    }
    return data
  }

  create (file, policy, partSize) {
    const body = { filename: file.name, type: file.type || '', size: file.size, partSize, policy }
    return this.request('', { method: 'POST', body })
  }

  sign (uploadId, partNumber, signal) {
    return this.request(`${uploadId}/parts/${partNumber}/sign/`, { signal })
  }

  signRange (uploadId, first, last) {
    return this.request(`${uploadId}/parts/sign/?parts=${first}-${last}`)
  }

  parts (uploadId, signal) {
    return this.request(`${uploadId}/parts/`, { signal })
  }

  complete (uploadId, parts, signal) {
    const body = { parts: parts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) }
    return this.request(`${uploadId}/complete/`, { method: 'POST', body, signal })
  }

  abort (uploadId) {
    return this.request(`${uploadId}/`, { method: 'DELETE' })
  }
}

// Signed part URLs, asked for several at a time and ahead of need: one request per part cost
// a round trip before every part and 10 ms of the server's CPU each (issue 8). A batch covers
// two rounds of parallel parts, and the next batch is asked for while parts are still being
// sent, so no part waits for its URL; bench/upload.py (Signer) signs the same way.
class PartSigner {
  constructor (api, parallel) {
    this.api = api
    this.batch = 2 * parallel
    // One part at a time means one request at a time: then nothing is signed alongside.
    this.ahead = parallel > 1 ? parallel : 0
    this.signed = new Map() // `${uploadId}:${number}` -> {promise, usableUntil}
    this.requested = new Map() // upload id -> the highest part number asked for
  }

  sign (uploadId, number, partCount) {
    const key = `${uploadId}:${number}`
    let entry = this.signed.get(key)
    if (!entry || Date.now() > entry.usableUntil) {
      this.#fetch(uploadId, number, partCount)
      entry = this.signed.get(key)
    }
    // Each URL is used once: a part sent again (after a failure) gets a fresh one.
    this.signed.delete(key)
    const requested = this.requested.get(uploadId)
    if (this.ahead && number + this.ahead > requested && requested < partCount) {
      this.#fetch(uploadId, requested + 1, partCount)
    }
    return entry.promise
  }

  forget (uploadId) {
    this.requested.delete(uploadId)
    for (const key of this.signed.keys()) {
      if (key.startsWith(`${uploadId}:`)) this.signed.delete(key)
    }
  }

  #fetch (uploadId, first, partCount) {
    const last = Math.min(first + this.batch - 1, partCount)
    const batch = this.api.signRange(uploadId, first, last)
    this.requested.set(uploadId, Math.max(this.requested.get(uploadId) ?? 0, last))
    for (let number = first; number <= last; number++) {
      const key = `${uploadId}:${number}`
      const entry = { usableUntil: Infinity }
      entry.promise = batch.then(({ parts, expiresIn }) => {
        // A part only has to start before its URL expires; keep half its life in hand for
        // the parts ahead of it (a slow connection, a pause), then sign it again.
        entry.usableUntil = Date.now() + expiresIn * 500
        const { url, headers } = parts.find((part) => part.number === number)
        return { url, headers }
      })
      // A failed batch is asked for again by the next part that needs it.
      entry.promise.catch(() => {
        if (this.signed.get(key) === entry) this.signed.delete(key)
      })
      this.signed.set(key, entry)
    }
  }
}

// A failed part PUT carries the XHR: turn its body (our JSON, or S3's XML) into words.
function readablePartError (err) {
  if (err?.name === 'AbortError') return err
  const xhr = err?.source
  const text = typeof xhr?.responseText === 'string' ? xhr.responseText : ''
  let message = ''
  let code = 'part'
  try {
    const data = JSON.parse(text)
    message = data.error || ''
    code = data.code || code
  } catch {
    message = (text.match(/<Message>([^<]*)<\/Message>/) || [])[1] || ''
  }
  if (message) return new ApiError(message, xhr.status, code)
  return new ApiError('The connection to the server was lost.', xhr?.status || 0, 'network')
}

// The component's elements, and the words it shows.
function bindView (element) {
  const find = (role) => element.querySelector(`[data-role="${role}"]`)
  const ui = {
    input: find('input'),
    progress: find('progress'),
    name: find('name'),
    bar: find('bar'),
    numbers: find('numbers'),
    pause: find('pause'),
    retry: find('retry'),
    cancel: find('cancel'),
    statusLine: find('status'),
    errorLine: find('error'),
    announced: 0,
    startedAt: 0,
    startBytes: 0
  }
  ui.status = (text) => { ui.statusLine.textContent = text }
  ui.error = (text) => { ui.errorLine.textContent = text }
  ui.begin = (file, note) => {
    ui.name.textContent = `Uploading “${file.name}” (${formatBytes(file.size)})`
    ui.bar.value = 0
    ui.numbers.textContent = ''
    ui.announced = 0
    ui.startedAt = 0
    ui.progress.hidden = false
    ui.pause.hidden = false
    ui.pause.textContent = 'Pause'
    ui.retry.hidden = true
    ui.error('')
    ui.status(note || `Uploading “${file.name}”.`)
  }
  ui.advance = (file, sent, total) => {
    const percent = total ? Math.floor((100 * sent) / total) : 0
    const now = Date.now()
    if (!ui.startedAt) {
      ui.startedAt = now
      ui.startBytes = sent
    }
    const rate = (sent - ui.startBytes) / Math.max(1, (now - ui.startedAt) / 1000)
    const wait = rate > 0 ? formatWait((total - sent) / rate) : ''
    ui.bar.value = percent
    ui.numbers.textContent =
      `${percent}% · ${formatBytes(sent)} of ${formatBytes(total)}${wait ? ` · ${wait}` : ''}`
    if (percent >= ui.announced + ANNOUNCE_EVERY && percent < 100) {
      ui.announced = percent - (percent % ANNOUNCE_EVERY)
      ui.status(`“${file.name}”: ${ui.announced}% uploaded.`)
    }
  }
  ui.finish = () => {
    ui.progress.hidden = true
  }
  return ui
}

function readOptions (element) {
  const resumeScript = document.getElementById(element.dataset.resume)
  return {
    api: element.dataset.api,
    policy: element.dataset.policy,
    maxBytes: Number(element.dataset.maxBytes),
    parallel: Number(element.dataset.parallel) || 4,
    csrfToken: element.dataset.csrf,
    uppyModule: element.dataset.uppy,
    resumable: resumeScript ? JSON.parse(resumeScript.textContent) : []
  }
}

export function mountUploader (element, options = {}) {
  const opts = { ...readOptions(element), ...options }
  const ui = bindView(element)
  let loading = null
  let loaded = null
  const ready = () => {
    loading ??= import(opts.uppyModule).then((modules) => {
      loaded = startUppy(element, opts, ui, modules)
      return loaded
    })
    // A failed fetch (a dropped connection) is tried again on the next attempt.
    loading.catch(() => { loading = null })
    return loading
  }
  const preload = () => { ready().catch(() => {}) }
  ui.input.addEventListener('focus', preload, { once: true })
  ui.input.addEventListener('pointerdown', preload, { once: true })

  ui.input.addEventListener('change', async () => {
    const [file] = ui.input.files
    ui.input.value = ''
    if (!file) return
    ui.error('')
    if (file.size === 0) {
      ui.error(`“${file.name}” is empty. Choose another file.`)
      return
    }
    if (file.size > opts.maxBytes) {
      ui.error(`“${file.name}” is ${formatBytes(file.size)}; files here can be at most ${formatBytes(opts.maxBytes)}.`)
      return
    }
    let uploader
    // Seen on a slow connection only: Uppy has usually arrived since the chooser got focus.
    if (!loaded) ui.status(`Preparing the upload of “${file.name}”.`)
    try {
      uploader = await ready()
    } catch (err) {
      console.error(err)
      ui.error('The uploader could not start. Check your connection and choose the file again.')
      return
    }
    uploader.start(file)
  })

  ui.input.disabled = false
  return { ready: () => ready().then(({ uppy }) => uppy) }
}

// Uppy and its AWS S3 plugin, wired to our endpoints and to the component's view.
function startUppy (element, opts, ui, { Uppy, AwsS3 }) {
  const api = new UploadApi(opts.api, opts.csrfToken)
  const started = new Map() // Uppy file id -> {uploadId, key} on our server
  const resumedPartSizes = new WeakMap() // File -> part size its earlier upload used
  const cancelled = new Set() // Uppy file ids the person cancelled
  const singlePart = new Map() // signed URL -> upload id, for files sent in one part
  let current = null // the Uppy file id being uploaded

  const signer = new PartSigner(api, opts.parallel)
  const partSizeOf = (data) => resumedPartSizes.get(data) ?? partSizeFor(data.size)

  const uppy = new Uppy({ autoProceed: false })
  uppy.use(AwsS3, {
    shouldUseMultipart: true, // Uppy still sends files under 5 MiB in one PUT: see below
    limit: opts.parallel,
    getChunkSize: partSizeOf,
    async createMultipartUpload (file) {
      const result = await api.create(file, opts.policy, partSizeFor(file.size))
      started.set(file.id, result)
      if (cancelled.has(file.id)) await api.abort(result.uploadId)
      return result
    },
    signPart: (file, { uploadId, partNumber }) =>
      signer.sign(uploadId, partNumber, Math.ceil(file.size / partSizeOf(file.data))),
    listParts: (file, { uploadId, signal }) => api.parts(uploadId, signal),
    completeMultipartUpload: (file, { uploadId, parts, signal }) =>
      api.complete(uploadId, parts, signal),
    // Uppy calls this whenever a part keeps failing; the upload must then survive so it can
    // resume. Only the person's Cancel discards it (see the cancel button below).
    abortMultipartUpload: async () => {},
    // Files of 5 MiB or less go as one part without a multipart "complete" step in Uppy, so
    // the part upload below completes them itself.
    async getUploadParameters (file) {
      const { uploadId, key } = await api.create(file, opts.policy, file.size)
      started.set(file.id, { uploadId, key })
      const { url, headers } = await api.sign(uploadId, 1)
      singlePart.set(url, uploadId)
      return { method: 'PUT', url, headers }
    },
    async uploadPartBytes (args) {
      let result
      try {
        result = await AwsS3.uploadPartBytes(args)
      } catch (err) {
        throw readablePartError(err)
      }
      const uploadId = singlePart.get(args.signature.url)
      if (uploadId) {
        singlePart.delete(args.signature.url)
        await api.complete(uploadId, [{ PartNumber: 1, ETag: result.ETag }])
      }
      return result
    }
  })

  const retry = (fileId) => {
    const upload = started.get(fileId)
    // Uppy forgets the upload id after an error; give it back so only missing parts are sent.
    if (upload) uppy.setFileState(fileId, { s3Multipart: upload })
    ui.retry.hidden = true
    ui.pause.hidden = false
    ui.error('')
    ui.status('Continuing the upload where it stopped.')
    uppy.retryUpload(fileId)
  }

  const start = (file) => {
    if (current && uppy.getFile(current)) {
      ui.error(`“${uppy.getFile(current).name}” is still uploading. Wait for it to finish or cancel it first.`)
      return
    }
    current = uppy.addFile({ name: file.name, type: file.type, data: file, source: 'input' })
    const earlier = opts.resumable.find((r) => r.name === file.name && r.size === file.size)
    let note = ''
    if (earlier) {
      const upload = { uploadId: earlier.uploadId, key: earlier.key }
      resumedPartSizes.set(file, earlier.partSize)
      started.set(current, upload)
      uppy.setFileState(current, { s3Multipart: upload })
      note = `Continuing your earlier upload of “${file.name}” from ${earlier.percent}%.`
    }
    ui.begin(file, note)
    uppy.upload()
  }

  ui.pause.addEventListener('click', () => {
    if (current) uppy.pauseResume(current)
  })
  ui.retry.addEventListener('click', () => {
    if (current) retry(current)
  })
  ui.cancel.addEventListener('click', async () => {
    const file = current && uppy.getFile(current)
    if (!file) return
    if (!window.confirm(`Cancel the upload of “${file.name}”? What was sent so far is discarded.`)) return
    cancelled.add(file.id)
    current = null
    uppy.removeFile(file.id)
    ui.finish()
    const upload = started.get(file.id)
    opts.resumable = opts.resumable.filter((r) => r.uploadId !== upload?.uploadId)
    if (upload) signer.forget(upload.uploadId)
    if (upload) await api.abort(upload.uploadId).catch(() => {})
    ui.status(`Cancelled the upload of “${file.name}”.`)
    ui.input.focus()
  })

  uppy.on('upload-progress', (file, progress) => {
    ui.advance(file, progress.bytesUploaded, progress.bytesTotal || file.size)
  })
  uppy.on('upload-pause', (file, isPaused) => {
    ui.pause.textContent = isPaused ? 'Resume' : 'Pause'
    ui.status(isPaused
      ? `Paused “${file.name}”. Nothing more is sent until you press Resume.`
      : `Resumed “${file.name}”.`)
  })
  uppy.on('upload-success', (file) => {
    const upload = started.get(file.id)
    if (upload) signer.forget(upload.uploadId)
    current = null
    uppy.removeFile(file.id)
    opts.resumable = opts.resumable.filter((r) => r.uploadId !== upload?.uploadId)
    ui.finish()
    ui.status(`Uploaded “${file.name}”. We are checking it now; it is listed with your files.`)
    element.dispatchEvent(new CustomEvent('upload:complete', {
      bubbles: true,
      detail: { uploadId: upload?.uploadId, name: file.name }
    }))
    document.body.dispatchEvent(new CustomEvent('uploads-changed'))
  })
  uppy.on('upload-error', (file, error) => {
    if (!uppy.getFile(file.id) || cancelled.has(file.id)) return
    // Refusals that trying again cannot fix; anything else (a dropped connection, a server
    // restart, a signed-out session) can be retried and resumes where it stopped.
    const final = ([403, 404, 413, 422].includes(error?.status) && error?.code !== 'expired') ||
      error?.code === 'not_open'
    ui.error(error?.message || 'The upload stopped.')
    ui.pause.hidden = true
    if (final) {
      const upload = started.get(file.id)
      if (upload) signer.forget(upload.uploadId)
      current = null
      uppy.removeFile(file.id)
      ui.finish()
      ui.status('')
      document.body.dispatchEvent(new CustomEvent('uploads-changed'))
      return
    }
    ui.retry.hidden = false
    ui.status(`The upload of “${file.name}” stopped. It continues where it stopped when you press Try again, or by itself when your connection is back.`)
  })
  uppy.on('is-offline', () => {
    if (current) ui.status('Your connection dropped. The upload continues when it is back.')
  })
  uppy.on('back-online', () => {
    const file = current && uppy.getFile(current)
    if (file?.error) retry(file.id)
  })

  return { uppy, start }
}

for (const element of document.querySelectorAll('[data-uploader]')) mountUploader(element)
