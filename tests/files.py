"""Real sample files for upload tests: made on the spot with the libraries the product already ships."""

from __future__ import annotations

import io


def pdf(text: str = "Skan pasporta", pages: int = 1) -> bytes:
    from fpdf import FPDF

    doc = FPDF()
    doc.set_font("helvetica", size=14)
    for n in range(pages):
        doc.add_page()
        doc.cell(text=f"{text} {n + 1}")
    return bytes(doc.output())


def image(fmt: str = "PNG", size: tuple[int, int] = (120, 80)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 2000 + b"This program cannot be run"
BROKEN_PDF = b"%PDF-1.7\n" + b"\x00garbage that is no PDF at all" * 50
BROKEN_PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 300
