"""Résumé files to plain text: PDF with pypdf, DOCX with python-docx, parsed in memory.

Nothing is written to disk. Both libraries are imported only when a file
arrives, so a server that never gets one never loads them. Every refusal is a
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
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pypdf import PdfReader

log = logging.getLogger(__name__)

Kind = Literal["pdf", "docx"]
MAX_CHARS = 20_000  # InterviewConfig.resume_text's limit
MAX_PAGES = 50
DOCX_MAX_UNPACKED_BYTES = 20_000_000  # a DOCX is a zip: refuse zip bombs before parsing
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
    """The text of a PDF or DOCX file of at most ``max_bytes`` (CPU-bound: run it in a thread)."""
    if len(data) > max_bytes:
        raise DocumentError("file_too_large", f"the file is larger than {max_bytes} bytes")
    if not data:
        raise DocumentError("invalid_file", "the file is empty")
    kind = detect_kind(data, filename)
    if kind == "pdf":
        raw, pages = _pdf_text(data, max_pages)
        if not raw.strip():
            raise DocumentError("pdf_no_text", "the PDF has no text layer (a scan?): paste the text instead")
    else:
        raw, pages = _docx_text(data), None
        if not raw.strip():
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


def _pdf_text(data: bytes, max_pages: int) -> tuple[str, int]:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not _decrypts_without_password(reader):
            raise DocumentError("pdf_encrypted", "the PDF is protected by a password")
        pages = reader.pages
        texts = [page.extract_text() or "" for page in pages[:max_pages]]
        return "\n\n".join(texts), len(pages)
    except DocumentError:
        raise
    except (DependencyError, FileNotDecryptedError):
        raise DocumentError("pdf_encrypted", "the PDF is encrypted") from None
    except Exception:  # pypdf raises many types on a malformed file: all of them mean "cannot read it"
        log.warning("unreadable PDF upload", exc_info=True)
        raise DocumentError("invalid_file", "the PDF could not be read") from None


def _decrypts_without_password(reader: PdfReader) -> bool:
    """True when the PDF only restricts permissions (an empty user password opens it)."""
    from pypdf import PasswordType

    return reader.decrypt("") != PasswordType.NOT_DECRYPTED


def _docx_text(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise DocumentError("invalid_file", "the DOCX file is not a valid zip archive") from None
    if unpacked > DOCX_MAX_UNPACKED_BYTES:
        raise DocumentError("file_too_large", "the DOCX file unpacks to too much data")
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception:  # python-docx and lxml raise many types on a malformed file
        log.warning("unreadable DOCX upload", exc_info=True)
        raise DocumentError("invalid_file", "the DOCX file could not be read") from None
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text.strip() for cell in row.cells))
    return "\n".join(parts)
