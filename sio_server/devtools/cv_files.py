"""CV (résumé) files made in memory for the tests: a PDF with text, an encrypted one, an image-only
(scanned) one, and a DOCX, written with fpdf2, pypdf and python-docx."""

from __future__ import annotations

import io

CV_LINES = [
    "Jane Doe - Backend Engineer",
    "6 years of Python and Go at Acme Payments.",
    "Led the move of the payment API to asyncio; cut p99 latency by 40%.",
]


def text_pdf(lines: list[str] = CV_LINES, pages: int = 1) -> bytes:
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


def encrypted_pdf(user_password: str = "secret", algorithm: str = "AES-128") -> bytes:
    """``text_pdf()`` encrypted with ``algorithm``; an empty ``user_password`` only restricts permissions."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf())))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_file(lines: list[str] = CV_LINES) -> bytes:
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


# Hostile files of issue 19, made small in memory: each one stalled, flooded or crashed the old parser.

_DOCX_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
)
_DOCX_TAIL = b"</w:body></w:document>"
_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    b'Target="word/document.xml"/></Relationships>'
)


def docx_with_body(body: bytes) -> bytes:
    """A minimal DOCX (zipfile, deflated) whose ``word/document.xml`` body is ``body``."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("word/document.xml", _DOCX_HEAD + body + _DOCX_TAIL)
    return out.getvalue()


def empty_paragraphs_docx(count: int = 3_000_000) -> bytes:
    """Row 1's memory bomb: ``count`` empty ``<w:p/>`` (about 27 kB zipped, 18 MB unpacked)."""
    return docx_with_body(b"<w:p/>" * count)


def merged_cells_docx(rows: int = 1_500, text: bool = False) -> bytes:
    """Row 2's DOCX: a table whose cells are merged vertically down ``rows`` rows (python-docx recursed).

    As in the issue, the document has no text; with ``text``, the first cell and a paragraph after the table do.
    """
    words = b"<w:r><w:t>Skill</w:t></w:r>" if text else b""
    first = b'<w:tr><w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr><w:p>' + words + b"</w:p></w:tc></w:tr>"
    rest = b"<w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc></w:tr>" * (rows - 1)
    grid = b'<w:tblGrid><w:gridCol w:w="2000"/></w:tblGrid>'
    after = b"<w:p><w:r><w:t>Jane Doe</w:t></w:r></w:p>" if text else b"<w:p/>"
    return docx_with_body(b"<w:tbl>" + grid + first + rest + b"</w:tbl>" + after)


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF from numbered object bodies (object 1 is the catalog), with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def xobject_pdf(pages: int = 50, draws: int = 1_000) -> bytes:
    """Row 2's CPU bomb: every page draws one form XObject ``draws`` times, and the form draws text."""
    content = b"q /X0 Do Q\n" * draws
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    form = _stream(b"BT /F1 12 Tf 72 700 Td (Jane Doe backend engineer) Tj ET " * 20,
                   b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >>")
    kids = b" ".join(b"%d 0 R" % (6 + i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        font,
        form,
        _stream(content),
    ]
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 5 0 R /Resources << /XObject << /X0 4 0 R >> /Font << /F1 3 0 R >> >> >>"
    objects += [page] * pages
    return _pdf(objects)


def cmap_pdf(lines: int = 10_000) -> bytes:
    """Row 3's log flood: a font whose ToUnicode CMap has ``lines`` one-token lines pypdf warns about."""
    cmap = b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n1 begincodespacerange\n<00> <FF>\nendcodespacerange\n"
    cmap += b"1 beginbfchar\n" + b"<41>\n" * lines + b"endbfchar\nendcmap\nend\nend\n"
    content = b"BT /F1 12 Tf 72 700 Td (AAAA) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        _stream(content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>",
        _stream(cmap),
    ]
    return _pdf(objects)
