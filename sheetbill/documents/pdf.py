"""Laying out a :class:`~sheetbill.documents.model.Document` as an A4 PDF letter (fpdf2).

The page follows the usual business-letter grid (DIN 5008 form B): the letterhead top right, the
return address and the recipient's address where a window envelope shows them (20 mm from the
left, 45 mm from the top), the document's numbers and dates beside it, then the title, the text,
the lines table, the totals, how to pay with the EPC QR code, and the closing. Long tables
continue on further pages with their header repeated; every page has "Page n of m".

Output is deterministic: the creation date is the document's own date, producer and creator are
fixed, fonts are embedded as subsets of exactly the characters used, and the fallback fonts a
document needs depend only on its text. The same document therefore always gives the same
bytes with the same fpdf2 and font versions; across versions, the fingerprint the PDF carries in
its Keywords (``sheetbill-fingerprint:<sha256>``) still tells whether the content is the same.
"""

from __future__ import annotations

import datetime as dt
import re

from fpdf import FPDF
from fpdf.fonts import FontFace as StyleFace

from .fonts import FontSet, clean_text
from .model import Document, PaymentBlock, Table

FINGERPRINT_PREFIX = "sheetbill-fingerprint:"
_FINGERPRINT = re.compile(rb"sheetbill-fingerprint:([0-9a-f]{64})")

LEFT, RIGHT_EDGE, TOP = 20.0, 195.0, 15.0
GREY = (90, 90, 90)
QR_SIZE = 40.0
#: The lines table's text size, line height and cell padding (mm).
TABLE_SIZE, TABLE_LINE, TABLE_PADDING = 8.5, 4.4, 1.2
#: A table row taller than this many lines is continued in further rows (fpdf2 cannot split one row
#: across pages): a Service Description of any length wraps onto the next page instead of failing.
ROW_LINES = 40


def fingerprint_of(pdf_bytes: bytes) -> str | None:
    """The content fingerprint a sheetbill PDF carries (``None`` for any other PDF)."""
    match = _FINGERPRINT.search(pdf_bytes)
    if match:
        return match[1].decode("ascii")
    return _fingerprint_in_metadata(pdf_bytes)


def _fingerprint_in_metadata(pdf_bytes: bytes) -> str | None:
    """The fingerprint in the Keywords of a PDF whose document information is compressed (a ZUGFeRD
    PDF rewritten by the ``factur-x`` library keeps it in an object stream)."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        keywords = (PdfReader(io.BytesIO(pdf_bytes)).metadata or {}).get("/Keywords") or ""
    except (PdfReadError, ValueError, KeyError):
        return None
    match = _FINGERPRINT.search(str(keywords).encode("ascii", "replace"))
    return match[1].decode("ascii") if match else None


class _Letter(FPDF):
    """An FPDF with the document's page footer."""

    def __init__(self, document: Document, pdfa: bool = False):
        super().__init__(orientation="P", unit="mm", format="A4", enforce_compliance="PDF/A-3B" if pdfa else None)
        self.document = document
        self.tail_split = False  # the end of the letter runs over a page break (see render_pdf)

    def _render_styled_text_line(self, *args, **kwargs):
        # fpdf2 2.8 wraps a line that uses a fallback font in q ... Q, which restores the text state,
        # yet it still believes the font it selected inside is current: the next line would then be
        # set in the size of an earlier font. Forget the font after each such line so it is set again.
        result = super()._render_styled_text_line(*args, **kwargs)
        if self._fallback_font_ids:
            self.current_font_is_set_on_page = False
        return result

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font("Body", "", 7.5)
        self.set_text_color(*GREY)
        label = self.document.page_label.replace("{page}", str(self.page_no())).replace("{pages}", "{nb}")
        name = " ".join(part for part in (self.document.title, self.document.invoice_no) if part)
        name = " ".join(name.split())  # one line, whatever the Invoice Prefix holds
        self.cell(0, 4, f"{name}  ·  {label}", align="C")
        self.set_text_color(0)


def render_pdf(document: Document, fonts: FontSet, *, pdfa: bool = False) -> bytes:
    """The PDF of ``document``, set in ``fonts`` (the caller has checked that they can print every text).

    The end of the letter (totals, payment box, closing: :func:`_tail`) is kept on one page: when it
    would be split across two and fits on one, the document is laid out again with a page break before it.

    ``pdfa``: made as PDF/A-3b (fpdf2's compliance mode: embedded fonts, sRGB output intent, XMP
    metadata), the base a ZUGFeRD / Factur-X invoice embeds its XML into (:mod:`sheetbill.einvoice.zugferd`).
    """
    pdf = _layout(document, fonts, break_before_tail=False, pdfa=pdfa)
    if pdf.tail_split:
        pdf = _layout(document, fonts, break_before_tail=True, pdfa=pdfa)
    return bytes(pdf.output())


def _layout(document: Document, fonts: FontSet, *, break_before_tail: bool, pdfa: bool = False) -> _Letter:
    """``document`` laid out on pages (not yet output)."""
    pdf = _Letter(document, pdfa)
    pdf.set_creation_date(dt.datetime.combine(document.date, dt.time(), tzinfo=dt.UTC))
    pdf.set_producer("sheetbill")
    pdf.set_creator("sheetbill")
    pdf.set_title(clean_text(f"{document.title} {document.invoice_no}"))
    if document.company:
        pdf.set_author(clean_text(document.company[0]))
    pdf.set_keywords(FINGERPRINT_PREFIX + document.fingerprint())
    pdf.set_lang(document.language)
    pdf.add_font("Body", "", fonts.regular.path)
    pdf.add_font("Body", "B", fonts.bold.path)
    fallbacks = fonts.fallbacks_for("\n".join(document.texts()))
    names = []
    for index, face in enumerate(fallbacks):
        pdf.add_font(f"Fallback{index}", "", face.path)
        names.append(f"fallback{index}")
    if names:
        pdf.set_fallback_fonts(names, exact_match=False)
    pdf.set_margins(LEFT, TOP, 210 - RIGHT_EDGE)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    _head(pdf, document)
    _body(pdf, document)
    if break_before_tail and pdf.get_y() > pdf.t_margin + 1:  # never an empty page
        pdf.add_page()
    start_page, start_y = pdf.page, pdf.get_y()
    _tail(pdf, document)
    height = (pdf.page - start_page) * pdf.eph + pdf.get_y() - start_y
    pdf.tail_split = pdf.page > start_page and not break_before_tail and height < pdf.eph - 10
    return pdf


def _label_and_value(pdf, x: float, label_width: float, value_width: float, size: float, height: float,
                     label: str, value: str) -> None:
    """One row of a label/value list: the label in grey, the value in bold, wrapping in its column."""
    pdf.set_x(x)
    _font(pdf, "", size)
    pdf.set_text_color(*GREY)
    pdf.cell(label_width, height, _text(label))
    pdf.set_text_color(0)
    _font(pdf, "B", size)
    pdf.multi_cell(value_width, height, _text(value), align="L")


def _font(pdf: FPDF, style: str, size: float) -> None:
    """Select the body font in ``style`` and ``size``."""
    pdf.set_font("Body", style, size)


def _text(value: str) -> str:
    return clean_text(value)


def _head(pdf: FPDF, d: Document) -> None:
    """Letterhead, return address, recipient, facts and title."""
    pdf.set_xy(115, TOP)
    for index, line in enumerate(d.company):
        _font(pdf, "B" if index == 0 else "", 11 if index == 0 else 8.5)
        pdf.set_x(115)
        pdf.multi_cell(RIGHT_EDGE - 115, 5 if index == 0 else 4, _text(line), align="R")
    pdf.set_xy(LEFT, 46)
    _font(pdf, "", 6.5)
    pdf.set_text_color(*GREY)
    pdf.multi_cell(90, 3, _text(d.sender_line), align="L")
    pdf.set_text_color(0)
    pdf.set_xy(LEFT, 53)
    for line in d.postal:
        _font(pdf, "", 10)
        pdf.set_x(LEFT)
        pdf.multi_cell(85, 5, _text(line), align="L")
    address_end = pdf.get_y()
    pdf.set_xy(120, 53)
    for label, value in d.facts:
        _label_and_value(pdf, 120, 33, RIGHT_EDGE - 153, 8.5, 4.6, label, value)
    pdf.set_y(max(address_end, pdf.get_y(), 95) + 6)
    _font(pdf, "B", 15)
    pdf.multi_cell(0, 8, _text(d.title), align="L")
    pdf.ln(2)


def _paragraphs(pdf: FPDF, paragraphs: tuple[str, ...] | list[str]) -> None:
    _font(pdf, "", 10)
    for paragraph in paragraphs:
        if paragraph.strip():
            pdf.multi_cell(0, 5, _text(paragraph), align="L")
            pdf.ln(2)


def _body(pdf: FPDF, d: Document) -> None:
    """Greeting and text, and the lines table."""
    _paragraphs(pdf, [d.greeting, *d.paragraphs])
    if d.table is not None and d.table.rows:
        _table(pdf, d)


def _tail(pdf: FPDF, d: Document) -> None:
    """Totals, breakdown, the closing text, payment and closing: the end of the letter, which
    :func:`render_pdf` keeps on one page when it fits on one (never a payment box or a "Kind regards"
    alone on a page)."""
    if d.totals:
        pdf.ln(1)
        for label, value, bold in d.totals:
            _font(pdf, "B" if bold else "", 10 if bold else 9.5)
            pdf.set_x(RIGHT_EDGE - 100)
            pdf.cell(68, 5.6, _text(label), align="R")
            pdf.cell(32, 5.6, _text(value), align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    if d.breakdown:
        _font(pdf, "B", 10)
        pdf.multi_cell(0, 5.5, _text(d.breakdown_heading), align="L")
        _font(pdf, "", 9.5)
        for label, value in d.breakdown:
            pdf.set_x(LEFT)
            pdf.cell(120, 5, _text(label))
            pdf.cell(RIGHT_EDGE - LEFT - 120, 5, _text(value), align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    _paragraphs(pdf, d.closing_paragraphs)
    if d.payment is not None:
        _payment(pdf, d.payment)
    if d.closing or d.signature:
        if pdf.get_y() + 14 > pdf.h - 20:
            pdf.add_page()
        pdf.ln(2)
        _paragraphs(pdf, [d.closing])
        _font(pdf, "B", 10)
        pdf.multi_cell(0, 5, _text(d.signature), align="L")


def _table(pdf: FPDF, d: Document) -> None:
    table = d.table
    notes = table.notes or ("",) * len(table.rows)
    heading = StyleFace(emphasis="BOLD", size_pt=TABLE_SIZE, fill_color=(238, 238, 238))
    _font(pdf, "", TABLE_SIZE)
    width = RIGHT_EDGE - LEFT
    widths = column_widths(pdf, table, width)
    columns = [w - 2 * TABLE_PADDING for w in widths]
    with pdf.table(col_widths=widths, text_align=table.align, headings_style=heading,
                   borders_layout="HORIZONTAL_LINES", line_height=TABLE_LINE, align="LEFT", padding=TABLE_PADDING,
                   first_row_as_headings=True, width=width) as grid:
        header = grid.row()
        for text in table.headers:
            header.cell(_text(text))
        for values, note in zip(table.rows, notes, strict=True):
            texts = [_text(value) for value in values]
            if note and len(texts) > 2:
                texts[2] = f"{texts[2]}\n– {_text(note)}"
            for part in _row_parts(pdf, texts, columns):
                row = grid.row()
                for text in part:
                    row.cell(text)
    pdf.ln(2)


def column_widths(pdf: FPDF, table: Table, width: float) -> list[float]:
    """The columns' widths in mm for a table ``width`` mm wide: the table's relative widths, except that
    no column but the widest (the description) is narrower than its longest cell, so that a date, a
    quantity, a rate or an amount is never broken over two lines ("31 January / 2026", "19 / %").

    The description gives up what they need, down to a quarter of the table. When that is not enough
    (a patient's invoice with Charged, Insurance, VAT and Your share beside the date), the columns whose
    share is wider than their longest cell give up their spare room next, each in proportion to it;
    only cells too long even then shrink every column alike. Headers may still wrap."""
    total = sum(table.widths)
    widths = [width * w / total for w in table.widths]
    flexible = max(range(len(widths)), key=widths.__getitem__)
    needed = [0.0] * len(widths)
    for index in range(len(widths)):
        if index == flexible:
            continue
        longest = max((pdf.get_string_width(_text(row[index])) for row in table.rows if index < len(row)),
                      default=0.0)
        needed[index] = longest + 2 * TABLE_PADDING + 0.5
        widths[index] = max(widths[index], needed[index])
    narrowest = width / 4
    spare = {index: widths[index] - needed[index] for index in range(len(widths))
             if index != flexible and widths[index] > needed[index]}
    over = sum(widths) - widths[flexible] + narrowest - width
    if over > 0 and spare:
        all_spare = sum(spare.values())
        given = min(over, all_spare)
        for index, room in spare.items():
            widths[index] -= given * room / all_spare
    widths[flexible] = max(narrowest, width - (sum(widths) - widths[flexible]))
    scale = width / sum(widths)  # cells too long even so: every column shrinks alike, as the table draws them
    return [w * scale for w in widths]


def _row_parts(pdf: FPDF, texts: list[str], columns: list[float]) -> list[list[str]]:
    """``texts`` as one table row, or, when a cell wraps to more than :data:`ROW_LINES` lines, as several
    rows of at most that many lines each (the continuation rows are blank in the other columns)."""
    lines = [pdf.multi_cell(max(width, 1.0), TABLE_LINE, text, dry_run=True, output="LINES")
             for text, width in zip(texts, columns, strict=False)]
    tallest = max((len(cell) for cell in lines), default=0)
    if tallest <= ROW_LINES:
        return [texts]
    return [["\n".join(cell[start:start + ROW_LINES]) for cell in lines] for start in range(0, tallest, ROW_LINES)]


def _payment(pdf: FPDF, block: PaymentBlock) -> None:
    """The payment box: rows on the left, the EPC QR code on the right."""
    needed = max(len(block.rows) * 5 + 12, QR_SIZE + 14 if block.qr_payload else 0)
    if pdf.get_y() + needed > pdf.h - 22:
        pdf.add_page()
    top = pdf.get_y() + 1
    pdf.set_draw_color(200)
    pdf.line(LEFT, top, RIGHT_EDGE, top)
    pdf.set_draw_color(0)
    pdf.set_xy(LEFT, top + 2)
    _font(pdf, "B", 10)
    pdf.cell(0, 6, _text(block.heading), new_x="LMARGIN", new_y="NEXT")
    width = 120 if block.qr_payload else RIGHT_EDGE - LEFT
    for label, value in block.rows:
        _label_and_value(pdf, LEFT, 36, width - 36, 9, 5, label, value)
    end = pdf.get_y()
    if block.qr_payload:
        x = RIGHT_EDGE - QR_SIZE
        draw_qr(pdf, block.qr_payload, x, top + 2, QR_SIZE)
        pdf.set_xy(x - 5, top + 2 + QR_SIZE)
        _font(pdf, "", 7)
        pdf.set_text_color(*GREY)
        pdf.multi_cell(QR_SIZE + 5, 3.2, _text(block.qr_caption), align="C")
        pdf.set_text_color(0)
        end = max(end, pdf.get_y())
    pdf.set_y(end + 3)


def draw_qr(pdf: FPDF, payload: str, x: float, y: float, size: float) -> None:
    """Draw ``payload`` as a QR code (error correction M, as the EPC guideline asks) with its quiet zone,
    as filled rectangles: vector, sharp at any zoom, and the same bytes every time."""
    import segno

    code = segno.make(payload, error="m", boost_error=False, encoding="utf-8", micro=False)
    matrix = code.matrix
    count = len(matrix)
    quiet = 4
    module = size / (count + 2 * quiet)
    pdf.set_fill_color(255)
    pdf.rect(x, y, size, size, style="F")
    pdf.set_fill_color(0)
    for r, row in enumerate(matrix):
        c = 0
        while c < count:
            if not row[c]:
                c += 1
                continue
            start = c
            while c < count and row[c]:
                c += 1
            pdf.rect(x + (quiet + start) * module, y + (quiet + r) * module, (c - start) * module, module, style="F")
    pdf.set_fill_color(255)
