"""Large evidence uploads: one part-by-part protocol (S3 multipart) for two storages.

The browser (Uppy's AWS S3 plugin) always speaks the same protocol to our JSON endpoints:
create, sign a part, list parts, complete, abort. Where the parts go depends on the default
storage: straight to the bucket through presigned URLs (`s3.S3Backend`), or to our own signed
part endpoint that streams them to disk (`local.LocalBackend`). Everything downstream reads
the finished file through Django's storage API under `Upload.key`.

- `policy`: what a page allows (types, size), signed so the browser cannot change it.
- `sniff`: the file's type from its first bytes, never from its name.
- `backends`, `local`, `s3`: the two storages behind one interface.
- `services` (writes) and `selectors` (reads): what views call.
- `processing`: checksum and media probing after completion, run by a task (PyAV).
- `widget` and `serving`: the upload component's context, and ranged file responses.
"""
