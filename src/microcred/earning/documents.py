"""Assessors' copies of PDFs and Word documents, without what the author's software wrote
into them besides the document itself.

A PDF carries an Info dictionary (/Author, /Creator, /Producer, /Title), an XMP packet (in
the catalog, on pages, on images), comments whose /T names their author, and may carry
document JavaScript, an open action and embedded files. A .docx carries docProps/core.xml
(creator, last modified by), app.xml (company, manager), custom.xml, people.xml and the
author and initials of every comment and tracked change. Any of them can name the teacher or
their school, and scoring is blind (DESIGN.md invariant 2), so assessors get a copy made of
the pages (PDF) or of the document's own parts (Word) only. Runs in the task worker, like
`metadata` for pictures and `media` for recordings.

Both work from a path and never read the whole file at once: pypdf seeks to the objects it
needs (the copy it builds is held until written, hence MAX_BYTES), and a .docx is rewritten
one zip member at a time, its XML parsed as a stream.
"""

from __future__ import annotations

import posixpath
import shutil
import zipfile
from pathlib import Path
from typing import IO, Any
from xml.sax import SAXException
from xml.sax.handler import ContentHandler
from xml.sax.saxutils import XMLGenerator
from xml.sax.xmlreader import AttributesImpl

from defusedxml import DefusedXmlException
from defusedxml.sax import make_parser

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# Larger documents are not cleaned (assessors are told they cannot see them yet): a PDF is
# rebuilt in memory by pypdf, and nothing a teacher writes for evidence comes near this.
MAX_BYTES = 200 * 1024 * 1024
# A .docx whose members unpack to more than this is a zip bomb, not a lesson plan.
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024
COPY_CHUNK = 1024 * 1024


class DocumentError(Exception):
    """The document cannot be read (or is too large), so no clean copy can be made."""


class DocumentTooLarge(DocumentError):
    """The document is over MAX_BYTES: the earner is told to make it smaller, not to re-save."""


def strip_document(content_type: str, path: Path, out_path: Path) -> None:
    """Write the clean copy of the PDF or .docx at `path` to `out_path`."""
    if path.stat().st_size > MAX_BYTES:
        raise DocumentTooLarge(f"The document is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    if content_type == PDF:
        strip_pdf(path, out_path)
    elif content_type == DOCX:
        strip_docx(path, out_path)
    else:
        raise DocumentError(f"No clean copy is made of {content_type} files.")


# ------------------------------------------------------------------------------------ PDF
# Keys dropped wherever they appear on a page or below it: XMP packets (a page's or an
# image's), applications' private data, and actions that run on their own (page open,
# field changes), which can run script.
_PDF_DROPPED_KEYS = ("/Metadata", "/PieceInfo", "/AA", "/JS")
# Actions a click on a link may still do: go to a page, open a web address, a viewer command.
# Everything else (JavaScript, launching a program, submitting a form, ...) goes.
_PDF_KEPT_ACTIONS = ("/GoTo", "/URI", "/Named")


def strip_pdf(path: Path, out_path: Path) -> None:
    """A new PDF holding the pages only: no Info dictionary, no XMP, no document JavaScript,
    open action, outline, form or embedded files (none of the catalog's own entries are
    copied), annotations without their author (/T) and without file attachments."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PyPdfError

    try:
        # An open file, not a path: given a path, pypdf reads the whole file into memory;
        # given a file, it seeks to the objects it needs.
        with path.open("rb") as source, out_path.open("wb") as out:
            reader = PdfReader(source)
            if reader.is_encrypted and not reader.decrypt(""):
                raise DocumentError("The PDF is protected by a password.")
            writer = PdfWriter()
            seen: set[int] = set()
            for page in reader.pages:
                # Scrubbed as read, before the copy: the writer then copies only what is
                # still reachable (what was cut off, such as an XMP stream, is never written).
                _scrub_pdf(page, seen=seen)
                writer.add_page(page)
            writer.metadata = None  # pypdf writes an Info of its own ("/Producer pypdf")
            writer.xmp_metadata = None
            writer.write(out)
    except DocumentError:
        raise
    # pypdf parses untrusted bytes, and a damaged file can fail in many ways besides its
    # own errors; whichever, there is no clean copy to give.
    except (
        PyPdfError,
        OSError,
        ValueError,
        KeyError,
        IndexError,
        TypeError,
        AttributeError,
        RecursionError,
        NotImplementedError,
    ) as exc:
        raise DocumentError(f"pypdf could not read the PDF: {exc}") from exc


def _scrub_pdf(obj: Any, *, seen: set[int]) -> None:
    """Remove metadata, authors and self-running actions from everything reachable from a
    copied page (each object visited once: pages and resources refer to each other)."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    if isinstance(obj, IndirectObject):
        if obj.idnum in seen:
            return
        seen.add(obj.idnum)
        obj = obj.get_object()
    if isinstance(obj, ArrayObject):
        for item in obj:
            _scrub_pdf(item, seen=seen)
        return
    if not isinstance(obj, DictionaryObject):
        return
    for key in _PDF_DROPPED_KEYS:
        obj.pop(key, None)
    if "/Annots" in obj:
        kept = [a for a in obj["/Annots"] if a.get_object().get("/Subtype") != "/FileAttachment"]
        for annotation in kept:
            _scrub_annotation(annotation.get_object())
        obj[NameObject("/Annots")] = ArrayObject(kept)
    for key, value in list(obj.items()):
        if key not in ("/Parent", "/P"):  # back up to the page tree: already on our way
            _scrub_pdf(value, seen=seen)


def _scrub_annotation(annotation: Any) -> None:
    if annotation.get("/Subtype") != "/Widget":  # a form field's /T is its name, no author
        annotation.pop("/T", None)
    action = annotation.get("/A")
    if action is not None and action.get_object().get("/S") not in _PDF_KEPT_ACTIONS:
        del annotation["/A"]
    elif action is not None:
        action.get_object().pop("/Next", None)  # a chained action may be any action


# ----------------------------------------------------------------------------------- DOCX
_CORE = "docProps/core.xml"
_APP = "docProps/app.xml"
# Replaced by parts that name no one (their relationships and content types stay valid).
_EMPTY_PARTS = {
    _CORE: (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b"<cp:coreProperties"
        b' xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
        b' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        b' xmlns:dcterms="http://purl.org/dc/terms/"'
        b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
    ),
    _APP: (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b"<Properties"
        b' xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"'
        b' xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"/>'
    ),
}
# Dropped, with the relationships and content-type entries that point at them (Word calls a
# document whose relationship points at a missing part damaged).
_DROPPED_PARTS = {"docProps/custom.xml", "word/people.xml"}
# Attributes of comments, tracked changes and their kin that name a person, in whichever
# namespace (transitional w:, strict, w15:...): their value becomes a neutral one.
_PERSON_ATTRIBUTES = {"author": "Author", "initials": "A"}
# Every zip member gets the same date and no extra fields or comments (which may carry a
# user id or the author's own timestamps).
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def strip_docx(path: Path, out_path: Path) -> None:
    """Rewrite the .docx member by member: core.xml and app.xml replaced by empty ones,
    custom.xml and people.xml dropped, every comment and tracked change by "Author"."""
    try:
        with (
            zipfile.ZipFile(path) as source,
            zipfile.ZipFile(out_path, "w", zipfile.ZIP_DEFLATED) as target,
        ):
            budget = _Budget(MAX_UNPACKED_BYTES)
            for info in source.infolist():
                name = info.filename
                if info.is_dir() or name in _DROPPED_PARTS:
                    continue
                fresh = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
                fresh.compress_type = zipfile.ZIP_DEFLATED
                with target.open(fresh, "w") as out:
                    if name in _EMPTY_PARTS:
                        out.write(_EMPTY_PARTS[name])
                        continue
                    with source.open(info) as member:
                        reader = budget.reader(member)
                        if _is_rewritten(name):
                            _filter_xml(name, reader, out)
                        else:
                            shutil.copyfileobj(reader, out, COPY_CHUNK)
    except DocumentError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise DocumentError(f"The Word document could not be read: {exc}") from exc
    except RuntimeError as exc:  # zipfile: an encrypted member
        raise DocumentError(f"The Word document is protected: {exc}") from exc
    except (SAXException, DefusedXmlException, ValueError) as exc:
        raise DocumentError(f"The Word document holds XML we do not accept: {exc}") from exc


def _is_rewritten(name: str) -> bool:
    return (
        name == "[Content_Types].xml"
        or name.endswith(".rels")
        or (name.startswith("word/") and name.endswith(".xml"))
    )


class _Budget:
    """Counts the bytes unpacked from all members together, and stops at the limit."""

    def __init__(self, limit: int) -> None:
        self.left = limit

    def reader(self, member: IO[bytes]) -> _Counted:
        return _Counted(member, self)


class _Counted:
    def __init__(self, member: IO[bytes], budget: _Budget) -> None:
        self.member, self.budget = member, budget

    def read(self, size: int = -1) -> bytes:
        data = self.member.read(COPY_CHUNK if size is None or size < 0 else size)
        self.budget.left -= len(data)
        if self.budget.left < 0:
            raise DocumentError("The Word document unpacks to more than we accept.")
        return data

    def close(self) -> None:  # the XML parser closes what it has read
        self.member.close()


def _filter_xml(name: str, source: _Counted, out: IO[bytes]) -> None:
    """Copy one XML part through a streaming parser that refuses DTDs, entities and external
    references (defusedxml), renaming people and leaving out references to dropped parts.
    Namespaces are not resolved, so every prefix is written back as it was (Word's
    mc:Ignorable lists prefixes by name)."""
    parser = make_parser()
    parser.forbid_dtd = True
    writer = XMLGenerator(out, encoding="UTF-8", short_empty_elements=True)
    parser.setContentHandler(_DocxFilter(writer, base=_rels_base(name)))
    parser.parse(source)


def _rels_base(name: str) -> str | None:
    """The folder relative targets in a relationships part start from (None if `name` is
    not one): `word/_rels/document.xml.rels` speaks for `word/document.xml`."""
    if not name.endswith(".rels"):
        return None
    return posixpath.dirname(posixpath.dirname(name))


class _DocxFilter(ContentHandler):
    def __init__(self, writer: XMLGenerator, *, base: str | None) -> None:
        super().__init__()
        self.writer, self.base = writer, base
        self.skipping = 0  # depth inside an element being left out

    def startDocument(self) -> None:
        self.writer.startDocument()

    def endDocument(self) -> None:
        self.writer.endDocument()

    def startElement(self, name: str, attrs: Any) -> None:
        if self.skipping or self._points_at_dropped_part(name, attrs):
            self.skipping += 1
            return
        values = {
            key: _PERSON_ATTRIBUTES.get(key.rpartition(":")[2], value)
            for key, value in attrs.items()
        }
        if _is_local_file_link(name, values):
            values["Target"] = _file_name(values["Target"])
        self.writer.startElement(name, AttributesImpl(values))

    def endElement(self, name: str) -> None:
        if self.skipping:
            self.skipping -= 1
            return
        self.writer.endElement(name)

    def characters(self, content: str) -> None:
        if not self.skipping:
            self.writer.characters(content)

    def ignorableWhitespace(self, whitespace: str) -> None:
        self.characters(whitespace)

    def processingInstruction(self, target: str, data: str) -> None:
        if not self.skipping:
            self.writer.processingInstruction(target, data)

    def _points_at_dropped_part(self, name: str, attrs: Any) -> bool:
        local = name.rpartition(":")[2]
        if local == "Override":  # [Content_Types].xml
            return attrs.get("PartName", "").lstrip("/") in _DROPPED_PARTS
        if local == "Relationship" and self.base is not None:
            if attrs.get("TargetMode") == "External":
                return False
            return _resolve(self.base, attrs.get("Target", "")) in _DROPPED_PARTS
        return False


_WEB_SCHEMES = ("http://", "https://", "mailto:", "#")


def _is_local_file_link(name: str, attrs: dict[str, str]) -> bool:
    """A relationship to a file on the author's computer or network, such as the template
    Word records in a document it saves (file:///C:/Users/<their name>/.../Normal.dotm): the
    folders name them, so only the file's own name is kept. Web and mail links stay."""
    if name.rpartition(":")[2] != "Relationship" or attrs.get("TargetMode") != "External":
        return False
    target = attrs.get("Target", "").lower()
    return not target.startswith(_WEB_SCHEMES)


def _file_name(target: str) -> str:
    return target.replace("\\", "/").rstrip("/").rpartition("/")[2]


def _resolve(base: str, target: str) -> str:
    if target.startswith("/"):
        return posixpath.normpath(target).lstrip("/")
    return posixpath.normpath(posixpath.join("/", base, target)).lstrip("/")
