"""PDFs that mainstream readers repair silently are accepted by the upload checker (defect 7); what no reader
opens is still refused, and hostile files cannot hang it. Damaged files are made here from a valid one, the way
scanners and web generators spoil them; qpdf and poppler, where the machine has them, confirm that they open."""

from __future__ import annotations

import hashlib
import io
import logging
import random
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, NumberObject

from chalicelib.documents import inspect as inspection
from chalicelib.documents.inspect import inspect
from tests import files

MIB = 1024 * 1024
TEXTS = ("Skan pasporta 1", "Skan pasporta 2")
BROKEN = "PDF повреждён и не открывается"
ENCRYPTED = "PDF защищён паролем: сотрудник ведомства не сможет его открыть"
NO_PAGES = "В PDF нет ни одной страницы"


def _valid() -> bytes:
    return files.pdf("Skan pasporta", pages=2)


def _check(data: bytes) -> inspection.Verdict:
    return inspect(data, declared="application/pdf", limit=10 * MIB)


def _xref_offset(data: bytes) -> int:
    return int(re.findall(rb"startxref\s+(\d+)", data)[-1])


def _set_startxref(data: bytes, offset: int) -> bytes:
    head, tail = data.rsplit(b"startxref", 1)
    return head + re.sub(rb"^\s+\d+", b"\n%d" % offset, tail, count=1)


def _startxref_a_few_bytes_off(data: bytes) -> bytes:
    return _set_startxref(data, _xref_offset(data) + 37)


def _startxref_into_an_object(data: bytes) -> bytes:
    return _set_startxref(data, _xref_offset(data) // 2)


def _shifted_offsets(data: bytes) -> bytes:
    return re.sub(rb"(\d{10}) (\d{5}) n", lambda m: b"%010d %s n" % (int(m[1]) + 13, m[2]), data)


def _no_xref_table(data: bytes) -> bytes:
    """The table gone, the trailer kept, startxref pointing into the middle of a content stream."""
    start = _xref_offset(data)
    cut = data[:start] + data[data.index(b"trailer", start):]
    return _set_startxref(cut, len(cut) // 2)


def _truncated_xref_table(data: bytes) -> bytes:
    start = _xref_offset(data)
    rows = data[start:data.index(b"trailer", start)].split(b"\n")
    return data[:start] + b"\n".join(rows[:5]) + b"\n" + data[data.index(b"trailer", start):]


def _junk_before_header(data: bytes) -> bytes:
    return b"\x00JUNK" * 200 + data  # 1000 bytes: sniff looks for %PDF- in the first KiB


def _no_eof_marker(data: bytes) -> bytes:
    return data[:data.rindex(b"%%EOF")]


def _cut_before_trailer(data: bytes) -> bytes:
    return data[:_xref_offset(data)]


DAMAGES: dict[str, Callable[[bytes], bytes]] = {
    "startxref a few bytes off": _startxref_a_few_bytes_off,
    "startxref into an object": _startxref_into_an_object,
    "xref offsets shifted": _shifted_offsets,
    "no xref table, startxref at garbage": _no_xref_table,
    "xref table truncated": _truncated_xref_table,
    "junk before %PDF-": _junk_before_header,
    "no %%EOF": _no_eof_marker,
    "shifted offsets and no %%EOF": lambda data: _no_eof_marker(_shifted_offsets(data)),
}
damages = pytest.mark.parametrize("damage", list(DAMAGES.values()), ids=list(DAMAGES))


def _other_readers(data: bytes, folder: Path) -> dict[str, bool]:
    """Whether each reader present on this machine opens the file with all its text; none is required."""
    path = folder / "doc.pdf"
    path.write_bytes(data)
    opens: dict[str, bool] = {}
    if shutil.which("qpdf"):  # exit 3: opened, with warnings about what it repaired
        run = subprocess.run(["qpdf", "--show-npages", str(path)], capture_output=True, text=True, timeout=60)
        opens["qpdf"] = run.returncode in (0, 3) and run.stdout.strip() == str(len(TEXTS))
    if shutil.which("pdftotext"):  # poppler, as in most Linux viewers
        run = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, timeout=60)
        opens["poppler"] = run.returncode == 0 and all(text in run.stdout for text in TEXTS)
    return opens


def _pypdf_text(data: bytes) -> list[str]:
    """pypdf as the checker runs it: as written, else with the cross-reference table rebuilt from the objects."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        return [page.extract_text() for page in reader.pages]
    except Exception:
        reader = PdfReader(io.BytesIO(data + inspection._REBUILD_XREF), strict=False)
        return [page.extract_text() for page in reader.pages]


@damages
def test_the_damage_is_real_and_other_readers_repair_it(damage, tmp_path):
    valid = _valid()
    damaged = damage(valid)
    assert damaged != valid
    opens = _other_readers(damaged, tmp_path)
    if not opens:
        pytest.skip("neither qpdf nor poppler on this machine")
    assert all(opens.values()), opens


@damages
def test_pypdf_reads_every_page_back(damage):
    assert _pypdf_text(damage(_valid())) == list(TEXTS)


@damages
def test_the_checker_accepts_what_readers_repair(damage):
    assert _check(damage(_valid())) == inspection.Verdict(True)


def _encrypted(algorithm: str) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(_valid()))
    writer.encrypt(user_password="1234", owner_password="owner", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-256"])
def test_an_encrypted_pdf_is_refused_as_such_even_when_damaged(algorithm, tmp_path):
    data = _encrypted(algorithm)
    for variant in (data, _startxref_into_an_object(data), _no_eof_marker(data)):
        assert _check(variant) == inspection.Verdict.no(ENCRYPTED)
    if shutil.which("qpdf"):  # exit 0: a password is needed to open it
        (tmp_path / "doc.pdf").write_bytes(data)
        assert subprocess.run(["qpdf", "--requires-password", str(tmp_path / "doc.pdf")], timeout=60).returncode == 0


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-256"])
def test_a_permission_locked_pdf_that_opens_without_a_password_is_accepted(algorithm):
    """An owner password with an empty user password (bank statements): every reader opens it without asking."""
    writer = PdfWriter(clone_from=io.BytesIO(_valid()))
    writer.encrypt(user_password="", owner_password="owner", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    assert PdfReader(io.BytesIO(out.getvalue())).is_encrypted
    assert _check(out.getvalue()) == inspection.Verdict(True)


def _no_pages(count: int) -> bytes:
    writer = PdfWriter()
    writer.root_object["/Pages"].get_object()[NameObject("/Count")] = NumberObject(count)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("count", [0, 1], ids=["empty", "count says one, kids are empty"])
def test_a_pdf_without_pages_is_refused_as_such(count):
    assert _check(_no_pages(count)) == inspection.Verdict.no(NO_PAGES)


@pytest.mark.parametrize("data", [
    b"%PDF-1.7\n" + random.Random(7).randbytes(64 * 1024),
    files.BROKEN_PDF,
    _cut_before_trailer(_valid()),  # no trailer, hence no /Root: qpdf and poppler give up on it too
], ids=["random bytes", "garbage text", "cut before its trailer"])
def test_what_no_reader_opens_is_refused_as_corrupt(data, tmp_path):
    assert _check(data) == inspection.Verdict.no(BROKEN)
    assert not any(_other_readers(data, tmp_path).values())


def test_an_executable_named_pdf_is_refused_by_its_bytes():
    verdict = _check(files.EXE)
    assert not verdict.ok and "исполняемая программа" in (verdict.reason or "")


def test_a_pdf_header_past_the_first_kib_is_not_taken_for_a_pdf():
    verdict = _check(b"\x00" * 1024 + _valid())
    assert not verdict.ok and "файл неизвестного формата" in (verdict.reason or "")


def _body(*objects: bytes, root: bytes = b"1 0 R") -> bytes:
    numbered = b"".join(b"%d 0 obj\n%s\nendobj\n" % (n, obj) for n, obj in enumerate(objects, 1))
    return b"%PDF-1.4\n" + numbered + b"trailer\n<< /Size %d /Root %s >>\nstartxref\n0\n%%%%EOF\n" % (
        len(objects) + 1, root)


HOSTILE = {
    "nested arrays 200k deep": _body(b"<< /Type /Catalog /Pages " + b"[" * 200_000 + b" >>"),
    "page tree cycle": _body(b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                             b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>"),
    "reference loop": _body(b"2 0 R", b"1 0 R"),
    "page tree 1000 deep": _body(b"<< /Type /Catalog /Pages 2 0 R >>", *(
        b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (n + 1) for n in range(2, 1002))),
}


@pytest.fixture
def gave_up(caplog) -> Callable[[], list[str]]:
    """The inspection's "gave up" warnings: the time budget fired."""
    caplog.set_level(logging.WARNING, logger="kabinet.documents")
    return lambda: [r.getMessage() for r in caplog.records if r.getMessage().startswith("PDF check gave up")]


@pytest.mark.parametrize("data", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_object_graphs_get_a_verdict_without_the_time_budget(data, gave_up):
    """pypdf's own limits refuse them, the alarm is only the backstop (how long each takes: bench/refusals.py)."""
    assert _check(data) == inspection.Verdict.no(BROKEN)
    assert gave_up() == []


def test_the_time_budget_stops_a_slow_file_and_leaves_no_alarm_behind(monkeypatch, gave_up):
    """The alarm cuts the check short (how soon: bench/refusals.py) and is disarmed afterwards."""
    slow = b"%PDF-1.4\n" + b"trailer\n<< /Root 1 0 R >>\n" * (10 * MIB // 26)  # seconds of pypdf work
    monkeypatch.setattr(inspection, "PDF_SECONDS", 0.1)
    handler = signal.getsignal(signal.SIGALRM)
    assert _check(slow) == inspection.Verdict.no(BROKEN)
    assert gave_up() == ["PDF check gave up after 0.1 s"]
    assert signal.getsignal(signal.SIGALRM) is handler and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_off_the_main_thread_it_still_answers():
    verdicts: list[inspection.Verdict] = []
    worker = threading.Thread(target=lambda: verdicts.extend(
        [_check(HOSTILE["page tree cycle"]), _check(_no_eof_marker(_valid()))]))
    worker.start()
    worker.join(timeout=30)
    assert verdicts == [inspection.Verdict.no(BROKEN), inspection.Verdict(True)]


def test_a_damaged_but_repairable_upload_becomes_available_unchanged(api):
    token = api.register(phone="+79161234567")["access_token"]
    data = _no_eof_marker(_shifted_offsets(_junk_before_header(files.pdf())))
    doc_id = api.upload(token, data, filename="Скан.pdf")
    doc = api.get(f"/documents/{doc_id}", token=token).json
    assert doc["status"] == "available", doc.get("reason")
    assert doc["versions"][0]["sha256"] == hashlib.sha256(data).hexdigest()  # kept as sent, not rewritten
