"""What an uploaded file really is (DC-2): size, magic numbers against the declared type, and whether it opens.

S3 enforces the presigned policy's size and type on AWS, but a browser can still send an .exe named .pdf
with `Content-Type: application/pdf`, and moto enforces nothing: so the bytes decide, never the name.
"""

from __future__ import annotations

import io
import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from chalicelib.documents.categories import CONTENT_TYPES, megabytes

log = logging.getLogger("kabinet.documents")

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
# Wall-clock budget for opening one PDF: honest 10 MiB files open in a few seconds, the checker Lambda has 60.
PDF_SECONDS = 20.0
# The second try appends a trailer whose xref offset is 0, where no table is: pypdf then rebuilds the table by
# scanning the whole file for `N G obj`, as poppler, qpdf and browsers do with a damaged file.
_REBUILD_XREF = b"\nstartxref\n0\n%%EOF\n"
_PDF_BROKEN = "PDF повреждён и не открывается"


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


class _OutOfTime(BaseException):
    """Raised by the alarm; not an Exception, so that pypdf's broad `except Exception` recovery cannot swallow it."""


def _pdf(data: bytes) -> Verdict:
    """Refuse only what no mainstream reader opens; never hangs or raises (the checker needs a verdict)."""
    try:
        with _deadline(PDF_SECONDS):
            return _open_pdf(data)
    except _OutOfTime:
        log.warning("PDF check gave up after %s s", PDF_SECONDS)
    except Exception:  # whatever went wrong, the person hears the same: it does not open
        log.exception("PDF check failed")
    return Verdict.no(_PDF_BROKEN)


def _open_pdf(data: bytes) -> Verdict:
    """pypdf, not pyhanko: scanners and web generators write wrong xref offsets; pypdf repairs them, pyhanko refuses.

    First as it is (the xref is right for most files and for incremental updates), then with the xref rebuilt from
    the objects themselves, which also mends a missing `%%EOF`. A file cut before its trailer has no /Root to start
    from and stays refused: qpdf and poppler cannot open it either.
    """
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # every repair is a WARNING; a broken file can make thousands
    verdict = Verdict.no(_PDF_BROKEN)
    for rebuilt, body in ((False, data), (True, data + _REBUILD_XREF)):
        try:
            reader = PdfReader(io.BytesIO(body), strict=False)
            # Permission-locked files (an owner password, an empty user password: bank statements) open in every
            # reader without a question, so they are accepted; a file that asks for a password is not.
            if reader.is_encrypted and not reader.decrypt(""):
                return Verdict.no("PDF защищён паролем: сотрудник ведомства не сможет его открыть")
            pages = len(reader.pages)
        except Exception as error:  # noqa: BLE001 - pypdf raises many types for broken files; the rebuild gets its turn
            log.debug("pypdf cannot open the PDF (xref %s): %r", "rebuilt" if rebuilt else "as written", error)
            continue
        if pages:
            if rebuilt:
                log.info("PDF accepted after rebuilding its cross-reference table")
            return Verdict(True)
        verdict = Verdict.no("В PDF нет ни одной страницы")
    return verdict


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise _OutOfTime after `seconds` of wall clock. Signals reach only the main thread (where Lambda runs the
    handler); elsewhere this caps nothing, and pypdf's own limits on arrays, streams and page trees remain.
    Nothing else in the app uses SIGALRM or the real-time timer."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signum: int, _frame: object) -> None:
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
        finally:
            signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)


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
