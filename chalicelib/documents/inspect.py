"""What an uploaded file really is (DC-2): size, magic numbers against the declared type, and whether it opens.

S3 enforces the presigned policy's size and type on AWS, but a browser can still send an .exe named .pdf
with `Content-Type: application/pdf`, and moto enforces nothing: so the bytes decide, never the name.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from chalicelib.documents.categories import CONTENT_TYPES, megabytes

# Leading bytes → what the file is. The first three are the types we accept; the rest name common disguises.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"MZ", "исполняемая программа Windows"),
    (b"\x7fELF", "исполняемая программа"),
    (b"PK\x03\x04", "архив ZIP или документ Office"),
    (b"Rar!", "архив RAR"),
    (b"7z\xbc\xaf", "архив 7-Zip"),
    (b"GIF8", "изображение GIF"),
    (b"{\\rtf", "документ RTF"),
    (b"\xd0\xcf\x11\xe0", "документ Office"),
    (b"#!", "сценарий"),
    (b"<", "HTML или XML"),
)
MAX_PIXELS = 100_000_000  # a 10 MB file that unpacks to more than this is a decompression bomb, not a scan


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str | None = None

    @staticmethod
    def no(reason: str) -> Verdict:
        return Verdict(False, reason)


def sniff(data: bytes) -> str | None:
    """The content type (or a Russian description) the leading bytes reveal; PDFs may start a little late."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    return "application/pdf" if b"%PDF-" in data[:1024] else None


def _label(kind: str | None) -> str:
    if kind in CONTENT_TYPES:
        return CONTENT_TYPES[kind][1]
    return kind or "файл неизвестного формата"


def inspect(data: bytes, *, declared: str, limit: int) -> Verdict:
    if not data:
        return Verdict.no("Файл пустой")
    if len(data) > limit:
        return Verdict.no(f"Файл больше допустимых {megabytes(limit)}")
    kind = sniff(data)
    if kind != declared:
        return Verdict.no(f"Файл заявлен как {_label(declared)}, но по содержимому это {_label(kind)}")
    return _pdf(data) if kind == "application/pdf" else _image(data, kind)


def _pdf(data: bytes) -> Verdict:
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        if reader.encrypted:
            return Verdict.no("PDF защищён паролем: сотрудник ведомства не сможет его открыть")
        pages = int(reader.root["/Pages"]["/Count"])
    except Exception:  # noqa: BLE001 - any parser failure means the same thing to the person: it does not open
        return Verdict.no("PDF повреждён и не открывается")
    return Verdict(True) if pages > 0 else Verdict.no("В PDF нет ни одной страницы")


def _image(data: bytes, kind: str) -> Verdict:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            image.verify()
    except Exception:  # noqa: BLE001 - Pillow raises many types for broken files
        return Verdict.no(f"Изображение {_label(kind)} повреждено и не открывается")
    if width * height > MAX_PIXELS:
        return Verdict.no("Изображение слишком большого разрешения")
    if min(width, height) < 50:
        return Verdict.no("Изображение слишком маленькое, чтобы его прочитать")
    return Verdict(True)
