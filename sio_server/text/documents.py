"""Résumé files to plain text: PDF with pypdf, DOCX by streaming its ``word/document.xml``, in memory.

Nothing is written to disk. The server never calls this module itself: it runs
in the child processes of :mod:`sio_server.text.parse_pool`, under memory, CPU
and wall-clock limits. The work is bounded here too: at most ``MAX_PAGES``
PDF pages, reading stops once ``MAX_CHARS`` of text are in hand, and a DOCX is
read element by element (lxml ``iterparse``, entities not resolved, no DTD, no
network) with a budget of ``DOCX_MAX_ELEMENTS``; python-docx's object model is
never built (its ``row.cells`` walks merged cells recursively). Every refusal is a
:class:`DocumentError` with one of the codes documented in
``docs/protocol-notes.md``: ``unsupported_file``, ``file_too_large``,
``pdf_encrypted``, ``pdf_no_text`` and ``invalid_file``.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pypdf import PdfReader

log = logging.getLogger(__name__)

Kind = Literal["pdf", "docx"]
CODES = frozenset({"unsupported_file", "file_too_large", "pdf_encrypted", "pdf_no_text", "invalid_file"})
MAX_CHARS = 20_000  # InterviewConfig.resume_text's limit
MAX_PAGES = 10
DOCX_MAX_UNPACKED_BYTES = 20_000_000  # a DOCX is a zip: refuse zip bombs before parsing
DOCX_MAX_ELEMENTS = 300_000  # a long résumé has tens of thousands; 3 M empty paragraphs is a bomb
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


class DocumentError(ValueError):
    """The file could not be turned into text; ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Document:
    """The text of a résumé file; ``pages`` for a PDF, ``truncated`` past ``MAX_CHARS``."""

    text: str
    kind: Kind
    pages: int | None = None
    truncated: bool = False


def detect_kind(data: bytes, filename: str = "") -> Kind:
    """The file's type from its first bytes; the name only decides which error a garbled file gets."""
    name = filename.lower()
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        if name.endswith(".docx") or b"word/" in data[:4096]:
            return "docx"
        raise DocumentError("unsupported_file", "only PDF and DOCX files can be read")
    if name.endswith((".pdf", ".docx")):
        raise DocumentError("invalid_file", "the file is not a readable PDF or DOCX")
    raise DocumentError("unsupported_file", "only PDF and DOCX files can be read")


def parse_document(
    data: bytes, filename: str = "", *, max_bytes: int, max_pages: int = MAX_PAGES, max_chars: int = MAX_CHARS
) -> Document:
    """The text of a PDF or DOCX file of at most ``max_bytes`` (CPU-bound: run it in a child process).

    Every failure is a :class:`DocumentError`: an unexpected exception of a
    parser (a ``RecursionError`` on a hostile file, say) is logged and becomes
    ``invalid_file``.
    """
    if len(data) > max_bytes:
        raise DocumentError("file_too_large", f"the file is larger than {max_bytes} bytes")
    if not data:
        raise DocumentError("invalid_file", "the file is empty")
    kind = detect_kind(data, filename)
    try:
        if kind == "pdf":
            raw, pages = _pdf_text(data, max_pages, max_chars)
        else:
            raw, pages = _docx_text(data, max_chars), None
    except DocumentError:
        raise
    except Exception:  # every parser raises many types on a hostile file: all of them mean "cannot read it"
        log.warning("unreadable %s upload", kind.upper(), exc_info=True)
        raise DocumentError("invalid_file", f"the {kind.upper()} file could not be read") from None
    if not raw.strip():
        if kind == "pdf":
            raise DocumentError("pdf_no_text", "the PDF has no text layer (a scan?): paste the text instead")
        raise DocumentError("invalid_file", "the document has no text")
    text, truncated = clean_text(raw, max_chars)
    return Document(text=text, kind=kind, pages=pages, truncated=truncated)


def clean_text(raw: str, max_chars: int = MAX_CHARS) -> tuple[str, bool]:
    """Plain text a ``start_interview`` accepts: no control characters, tidy spaces, at most ``max_chars``."""
    text = _CONTROL.sub("", raw.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    if len(text) <= max_chars:
        return text, False
    return text[:max_chars].rstrip(), True


def _pdf_text(data: bytes, max_pages: int, max_chars: int) -> tuple[str, int]:
    """The text of the first ``max_pages`` pages, stopping early once ``max_chars`` are read; and the page count."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not _decrypts_without_password(reader):
            raise DocumentError("pdf_encrypted", "the PDF is protected by a password")
        pages = reader.pages
        texts: list[str] = []
        read = 0
        for page in pages[:max_pages]:
            texts.append(page.extract_text() or "")
            read += len(texts[-1])
            if read > max_chars:
                break
        return "\n\n".join(texts), len(pages)
    except (DependencyError, FileNotDecryptedError):
        raise DocumentError("pdf_encrypted", "the PDF is encrypted") from None


def _decrypts_without_password(reader: PdfReader) -> bool:
    """True when the PDF only restricts permissions (an empty user password opens it)."""
    from pypdf import PasswordType

    return reader.decrypt("") != PasswordType.NOT_DECRYPTED


def _docx_text(data: bytes, max_chars: int) -> str:
    """The text of ``word/document.xml``, streamed: runs' ``w:t``, a line per paragraph, `` | `` between cells."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise DocumentError("invalid_file", "the DOCX file is not a valid zip archive") from None
    with archive:
        if sum(info.file_size for info in archive.infolist()) > DOCX_MAX_UNPACKED_BYTES:
            raise DocumentError("file_too_large", "the DOCX file unpacks to too much data")
        try:
            source = archive.open("word/document.xml")
        except KeyError:
            raise DocumentError("invalid_file", "the DOCX file has no document part") from None
        with source:
            return _stream_document_xml(source, max_chars)


def _stream_document_xml(source: IO[bytes], max_chars: int) -> str:
    """Paragraph lines from a WordprocessingML stream; ``DocumentError`` past ``DOCX_MAX_ELEMENTS`` elements.

    Table cells are collected on a stack (a nested table's text joins its
    outer cell), so no merged cell is ever followed to its neighbours.
    """
    from lxml import etree

    lines: list[str] = []
    paragraph: list[str] = []
    cells: list[list[str]] = []  # the open table cells, innermost last
    rows: list[list[str]] = []  # the open table rows' finished cells, innermost last
    size = 0
    events = etree.iterparse(
        source, events=("start", "end"), resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    for count, (event, element) in enumerate(events):
        if count > 2 * DOCX_MAX_ELEMENTS:
            raise DocumentError("invalid_file", "the DOCX file has too many elements to read")
        tag = element.tag
        if event == "start":
            if tag == _W + "tc":
                cells.append([])
            elif tag == _W + "tr":
                rows.append([])
            continue
        if tag == _W + "t":
            paragraph.append(element.text or "")
        elif tag == _W + "tab":
            paragraph.append("\t")
        elif tag in (_W + "br", _W + "cr"):
            paragraph.append("\n")
        elif tag == _W + "p":
            text = "".join(paragraph)
            paragraph.clear()
            (cells[-1] if cells else lines).append(text)
            size += len(text) + 1
        elif tag == _W + "tc" and cells:
            text = " ".join(t.strip() for t in cells.pop() if t.strip())
            (rows[-1] if rows else lines).append(text)
        elif tag == _W + "tr" and rows:
            row = " | ".join(rows.pop())
            (cells[-1] if cells else lines).append(row)
            size += len(row) + 1
        element.clear()  # keep nothing of what was read: memory stays flat however long the part
        parent = element.getparent()
        while parent is not None and element.getprevious() is not None:
            del parent[0]
        if size > max_chars:
            break
    return "\n".join(lines)
