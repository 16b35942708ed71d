"""Résumé files made in memory for the tests: a PDF with text, an encrypted one, an image-only
(scanned) one, and a DOCX, written with fpdf2, pypdf and python-docx."""

from __future__ import annotations

import io

RESUME_LINES = [
    "Jane Doe - Backend Engineer",
    "6 years of Python and Go at Acme Payments.",
    "Led the move of the payment API to asyncio; cut p99 latency by 40%.",
]


def text_pdf(lines: list[str] = RESUME_LINES, pages: int = 1) -> bytes:
    """A PDF whose pages carry ``lines`` as real text."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for _ in range(pages):
        pdf.add_page()
        for line in lines:
            pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def image_only_pdf() -> bytes:
    """A 'scanned' PDF: one page holding only a picture, no text layer."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 200), "white")
    ImageDraw.Draw(image).rectangle((20, 20, 580, 180), outline="black", width=4)
    pdf = FPDF()
    pdf.add_page()
    pdf.image(image, x=10, y=10, w=180)
    return bytes(pdf.output())


def encrypted_pdf(user_password: str = "secret") -> bytes:
    """``text_pdf()`` encrypted with AES; an empty ``user_password`` only restricts permissions."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf())))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_file(lines: list[str] = RESUME_LINES) -> bytes:
    """A DOCX with ``lines`` as paragraphs and a small skills table."""
    import docx

    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Skills"
    table.rows[0].cells[1].text = "PostgreSQL, Redis"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
