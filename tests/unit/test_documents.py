"""The résumé parser (sio_server.text.documents) on real files made in memory."""

from __future__ import annotations

import io
import zipfile

import pytest

from sio_server.devtools.cv_files import (
    CV_LINES,
    docx_file,
    docx_with_body,
    empty_paragraphs_docx,
    encrypted_pdf,
    image_only_pdf,
    merged_cells_docx,
    text_pdf,
)
from sio_server.text.documents import MAX_CHARS, DocumentError, clean_text, parse_document

LIMIT = 2_000_000


def refusal(data: bytes, filename: str, **kwargs: int) -> str:
    with pytest.raises(DocumentError) as caught:
        parse_document(data, filename, max_bytes=kwargs.pop("max_bytes", LIMIT), **kwargs)
    return caught.value.code


def test_pdf_with_text_gives_its_text_and_page_count():
    doc = parse_document(text_pdf(pages=2), "cv.pdf", max_bytes=LIMIT)
    assert doc.kind == "pdf" and doc.pages == 2 and not doc.truncated
    for line in CV_LINES:
        assert doc.text.count(line) == 2, doc.text


def test_pdf_is_recognised_by_content_not_by_name():
    assert parse_document(text_pdf(), "resume.bin", max_bytes=LIMIT).kind == "pdf"


def test_encrypted_pdf_is_refused_as_encrypted():
    assert refusal(encrypted_pdf("secret"), "cv.pdf") == "pdf_encrypted"


@pytest.mark.parametrize("algorithm", ["AES-128", "AES-256"])
def test_pdf_restricted_only_by_an_owner_password_is_read(algorithm):
    # "Restrict editing" exports from Word and Acrobat: AES needs the cryptography package (a dependency).
    doc = parse_document(encrypted_pdf("", algorithm), "cv.pdf", max_bytes=LIMIT)
    assert CV_LINES[1] in doc.text


def test_image_only_pdf_has_no_text():
    assert refusal(image_only_pdf(), "scan.pdf") == "pdf_no_text"


def test_docx_gives_paragraphs_and_tables():
    doc = parse_document(docx_file(), "cv.docx", max_bytes=LIMIT)
    assert doc.kind == "docx" and doc.pages is None
    assert doc.text.splitlines()[: len(CV_LINES)] == CV_LINES
    assert "Skills | PostgreSQL, Redis" in doc.text


def test_too_large_file_is_refused_before_parsing():
    data = text_pdf()
    assert refusal(data, "cv.pdf", max_bytes=len(data) - 1) == "file_too_large"


def test_docx_that_unpacks_to_too_much_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<" + b" " * 25_000_000 + b">")
    assert len(out.getvalue()) < 100_000
    assert refusal(out.getvalue(), "bomb.docx") == "file_too_large"


@pytest.mark.parametrize(
    ("data", "filename", "code"),
    [
        (bytes(range(256)) * 20, "cv.pdf", "invalid_file"),  # garbage named like a PDF
        (bytes(range(256)) * 20, "photo.jpg", "unsupported_file"),
        (b"%PDF-1.7\n" + bytes(range(256)) * 20, "cv.pdf", "invalid_file"),  # a PDF header, then garbage
        (b"PK\x03\x04" + bytes(200), "cv.docx", "invalid_file"),  # a zip header, then garbage
        (b"plain text resume", "cv.txt", "unsupported_file"),
        (b"", "cv.pdf", "invalid_file"),
    ],
)
def test_garbage_gets_a_clear_code(data: bytes, filename: str, code: str):
    assert refusal(data, filename) == code


def test_clean_text_drops_control_characters_and_truncates():
    text, truncated = clean_text("a\x00b\x07  c\r\n\n\n\nd" + "x" * MAX_CHARS)
    assert text.startswith("ab c\n\nd") and truncated and len(text) == MAX_CHARS


def test_pdf_reading_stops_at_the_page_limit_and_at_max_chars():
    assert parse_document(text_pdf(pages=12), "cv.pdf", max_bytes=LIMIT, max_pages=3).text.count(CV_LINES[0]) == 3
    doc = parse_document(text_pdf(pages=12), "cv.pdf", max_bytes=LIMIT, max_chars=200)
    assert doc.truncated and doc.pages == 12 and len(doc.text) <= 200


def test_docx_is_read_in_document_order_and_stops_at_max_chars():
    body = b"<w:p><w:r><w:t>Intro</w:t></w:r></w:p><w:tbl><w:tr><w:tc><w:p><w:r><w:t>A</w:t></w:r></w:p></w:tc>"
    body += b"<w:tc><w:p><w:r><w:t>B</w:t></w:r><w:r><w:tab/><w:t>C</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
    body += (b"<w:p><w:r><w:t>" + b"x" * 500 + b"</w:t></w:r></w:p>") * 1000
    doc = parse_document(docx_with_body(body), "cv.docx", max_bytes=LIMIT, max_chars=2000)
    assert doc.text.startswith("Intro\nA | B C\n") and doc.truncated and len(doc.text) <= 2000


def test_docx_element_bomb_is_refused_fast():
    # Issue 19 row 1: 3 M empty paragraphs (27 kB) took 1 GiB in python-docx.
    assert refusal(empty_paragraphs_docx(), "cv.docx") == "invalid_file"


def test_docx_with_merged_cells_is_read_without_following_them():
    # Issue 19 row 2: python-docx's row.cells recursed (63 s, then RecursionError) through 1,500 merged rows.
    assert parse_document(merged_cells_docx(1_500, text=True), "cv.docx", max_bytes=LIMIT).text == "Skill\n\nJane Doe"
    assert refusal(merged_cells_docx(1_500), "cv.docx") == "invalid_file"  # no text at all


def test_any_parser_failure_is_invalid_file():
    # 2,000 nested tables: lxml stops at its depth limit with its own error type; it becomes invalid_file.
    nested = b"<w:tbl><w:tr><w:tc>" * 2000 + b"</w:tc></w:tr></w:tbl>" * 2000
    assert refusal(docx_with_body(nested), "cv.docx") == "invalid_file"
    assert refusal(docx_with_body(b"<w:p>&undefined;</w:p>"), "cv.docx") == "invalid_file"
