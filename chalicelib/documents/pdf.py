"""Layout of system-issued documents (profile extract, certificates, receipts, journals) as A4 PDF with fpdf2.

One look for every document the portal hands out: a header with the portal's name, the title, when the document
was made (Moscow time) and its id; on every page a footer with the id, the verification address, its QR code and
the page number, so a printed page alone can be checked. The id also goes into the PDF's metadata
(`/KabinetDocumentId`), where the verifier reads it back.

fpdf2 costs ~0.3 s to import, so it is imported inside the functions: the API's cold start must not pay for a
feature most requests do not use. The bundled fonts are Latin/Greek/Cyrillic subsets of DejaVu Sans (fonts/): with
them a one-page render takes ~60 ms, with the full font files ~115 ms (and each PDF is 10 KiB larger).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from chalicelib.core.clock import MSK

FONTS = Path(__file__).resolve().parent.parent / "fonts"
FAMILY = "DejaVu"
PORTAL = "Госуслуги · Личный кабинет"
CREATOR = "Kabinet"
DOCUMENT_ID_KEY = "/KabinetDocumentId"

# Geometry in mm (A4 portrait).
MARGIN = 18.0
TOP = 14.0
QR_SIZE = 26.0  # with the 4-module quiet zone the QR standard asks for
FOOTER_BOTTOM = 8.0
BODY_GAP = 6.0  # between the body and the footer rule
ACCENT = (13, 76, 211)
INK = (33, 37, 41)
MUTED = (102, 112, 133)
RULE = (208, 213, 221)
HEAD_FILL = (238, 242, 250)


@dataclass(frozen=True)
class Table:
    """A data table (journal, receipt lines): the header repeats on every page it spans."""

    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    widths: Sequence[float] | None = None  # relative column widths; equal when None


@dataclass(frozen=True)
class Section:
    """A block of the document, drawn in this order: heading, label → value rows, paragraphs, table."""

    heading: str | None = None
    rows: Sequence[tuple[str, str]] = ()
    paragraphs: Sequence[str] = ()
    table: Table | None = None


@dataclass(frozen=True)
class Layout:
    title: str
    subtitle: str | None = None
    sections: Sequence[Section] = ()


def render(layout: Layout, *, document_id: str, verify_url: str, issued_at: datetime) -> bytes:
    """The document as PDF bytes; the same inputs give the same bytes (the dates come from `issued_at`)."""
    pdf = _document_class()(layout, document_id, verify_url, issued_at)
    pdf.add_page()
    _title_block(pdf, layout, document_id, issued_at)
    for section in layout.sections:
        _section(pdf, section)
    return bytes(pdf.output(output_producer_class=_producer_class()))


def moscow_minutes(moment: datetime) -> str:
    """dd.mm.yyyy hh:mm in Moscow time: the precision a paper document shows."""
    return moment.astimezone(MSK).strftime("%d.%m.%Y %H:%M")


@cache
def _document_class() -> type[Any]:
    """FPDF with our header and footer; built on first use because fpdf is imported lazily."""
    from fpdf import FPDF

    logging.getLogger("fontTools.subset").setLevel(logging.WARNING)  # ~40 INFO lines per document otherwise

    class Document(FPDF):  # type: ignore[misc]
        def __init__(self, layout: Layout, document_id: str, verify_url: str, issued_at: datetime) -> None:
            super().__init__(orientation="portrait", unit="mm", format="A4")
            self.layout, self.document_id, self.verify_url = layout, document_id, verify_url
            self.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
            self.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
            for font in self.fonts.values():
                # Keep the glyphs' stored bounds when fpdf2 writes the subset (pyftsubset --no-recalc-bounds):
                # the outlines are unchanged, and recomputing them parses every glyph again (~15 ms a document).
                font.ttfont.recalcBBoxes = False
            self.set_margins(MARGIN, TOP, MARGIN)
            self.set_auto_page_break(True, margin=FOOTER_BOTTOM + QR_SIZE + BODY_GAP)
            self.set_title(layout.title)
            self.set_subject(document_id)
            self.set_creator(CREATOR)
            self.set_author(PORTAL)
            self.set_lang("ru-RU")
            self.set_creation_date(issued_at)
            self.set_display_mode("fullwidth")

        def header(self) -> None:
            self.set_text_color(*ACCENT)
            self.set_font(FAMILY, "B", 9)
            self.cell(0, 5, PORTAL, new_x="LMARGIN", new_y="TOP")
            if self.page_no() > 1:
                self.set_text_color(*MUTED)
                self.set_font(FAMILY, "", 8)
                self.cell(0, 5, self.layout.title, align="R", new_x="LMARGIN", new_y="NEXT")
            else:
                self.ln(5)
            _rule(self, self.get_y() + 1.5)
            self.set_y(self.get_y() + 5)

        def footer(self) -> None:
            top = self.h - FOOTER_BOTTOM - QR_SIZE
            _rule(self, top)
            # The quiet zone may lie in the margin: the dark modules line up with the text above.
            qr_x = self.l_margin - 4 * QR_SIZE / len(_qr_matrix(self.verify_url))
            _qr(self, self.verify_url, qr_x, top)
            x = qr_x + QR_SIZE + 1
            width = self.w - self.r_margin - x
            self.set_xy(x, top + 4)
            self.set_text_color(*INK)
            self.set_font(FAMILY, "B", 8)
            self.cell(width, 4, f"Документ № {self.document_id}", new_x="LEFT", new_y="NEXT")
            self.set_font(FAMILY, "", 8)
            self.multi_cell(width, 4, f"Проверить подлинность: {self.verify_url}", new_x="LEFT", new_y="NEXT")
            self.set_text_color(*MUTED)
            self.multi_cell(width, 4, "Отсканируйте QR-код или откройте адрес, чтобы сверить документ с оригиналом.",
                            new_x="LEFT", new_y="NEXT")
            self.set_xy(x, self.h - FOOTER_BOTTOM - 5)
            self.cell(width, 4, f"Страница {self.page_no()} из {{nb}}", align="R")

    return Document


@cache
def _producer_class() -> type[Any]:
    """fpdf2's output producer plus one custom /Info entry: fpdf2 has no public API for custom metadata keys."""
    from fpdf.output import OutputProducer
    from fpdf.syntax import PDFString

    class Producer(OutputProducer):  # type: ignore[misc]
        def _add_info(self) -> Any:
            info = super()._add_info()
            # Serialised later from the object's attributes: `kabinet_document_id` becomes /KabinetDocumentId.
            info.kabinet_document_id = PDFString(self.fpdf.document_id, encrypt=True)
            return info

    return Producer


def _title_block(pdf: Any, layout: Layout, document_id: str, issued_at: datetime) -> None:
    pdf.set_text_color(*INK)
    pdf.set_font(FAMILY, "B", 16)
    pdf.multi_cell(0, 8, layout.title, new_x="LMARGIN", new_y="NEXT")
    if layout.subtitle:
        pdf.set_font(FAMILY, "", 11)
        pdf.multi_cell(0, 6, layout.subtitle, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_text_color(*MUTED)
    pdf.set_font(FAMILY, "", 9)
    pdf.cell(0, 5, f"Сформирован {moscow_minutes(issued_at)} (время московское)", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 5, f"Номер документа: {document_id}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _section(pdf: Any, section: Section) -> None:
    from fpdf.fonts import FontFace

    if section.heading:
        # Keep a heading with at least the first lines of its content.
        if pdf.will_page_break(22):
            pdf.add_page()
        pdf.set_text_color(*INK)
        pdf.set_font(FAMILY, "B", 12)
        pdf.multi_cell(0, 7, section.heading, new_x="LMARGIN", new_y="NEXT")
        _rule(pdf, pdf.get_y() + 0.5)
        pdf.ln(2.5)
    pdf.set_font(FAMILY, "", 10)
    if section.rows:
        label = FontFace(color=MUTED)
        with pdf.table(col_widths=(2, 3), first_row_as_headings=False, borders_layout="NONE", text_align="LEFT",
                       v_align="TOP", line_height=5, padding=(1.2, 2, 1.2, 0), markdown=False) as table:
            for name, value in section.rows:
                row = table.row()
                row.cell(name, style=label)
                row.cell(value)
    for paragraph in section.paragraphs:
        pdf.set_text_color(*INK)
        pdf.multi_cell(0, 5, paragraph, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    if section.table is not None:
        _table(pdf, section.table)
    pdf.ln(4)


def _table(pdf: Any, data: Table) -> None:
    from fpdf.fonts import FontFace

    pdf.set_text_color(*INK)
    pdf.set_font(FAMILY, "", 9)
    pdf.set_draw_color(*RULE)
    heading = FontFace(emphasis="BOLD", fill_color=HEAD_FILL, color=INK)
    with pdf.table(col_widths=tuple(data.widths) if data.widths else None, headings_style=heading,
                   borders_layout="HORIZONTAL_LINES", text_align="LEFT", v_align="TOP", line_height=4.5,
                   padding=(1.2, 1.5), repeat_headings=1, markdown=False) as table:
        table.row(list(data.header))
        for cells in data.rows:
            table.row([str(cell) for cell in cells])


def _rule(pdf: Any, y: float) -> None:
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)


@lru_cache(maxsize=16)  # every page of a document draws the same code; urls differ between documents
def _qr_matrix(url: str) -> tuple[tuple[bool, ...], ...]:
    """Modules of the QR code for `url`, with the 4-module quiet zone, dark = True."""
    import segno

    qr = segno.make(url, error="m", micro=False)
    return tuple(tuple(bool(m) for m in row) for row in qr.matrix_iter(border=4))


def _qr(pdf: Any, url: str, x: float, y: float) -> None:
    """The QR code as vector rectangles (one per run of dark modules) in a single filled path: crisp at any zoom,
    no image to embed, and no hairline seams between modules in anti-aliasing viewers."""
    from fpdf.drawing import DeviceRGB, PaintedPath
    from fpdf.enums import PathPaintRule

    matrix = _qr_matrix(url)
    size = QR_SIZE / len(matrix)
    path = PaintedPath()
    path.style.paint_rule = PathPaintRule.FILL_NONZERO
    path.style.fill_color = DeviceRGB(0, 0, 0)
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            path.rectangle(x + start * size, y + r * size, (c - start) * size, size)
    pdf.draw_path(path, copy=False)  # a fresh path: fpdf2's defensive deep copy would cost ~20 ms
