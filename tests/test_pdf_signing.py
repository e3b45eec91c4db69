"""System-issued PDFs without any AWS: layout (Cyrillic, metadata, page breaks, footer on every page), the PAdES
signature as pyhanko's own validator sees it, and `verify` on tampered, truncated, foreign and updated files."""

from __future__ import annotations

import dataclasses
import hashlib
import io
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader

from chalicelib.adapters import signer
from chalicelib.core import clock
from chalicelib.documents import pdf

ISSUED = datetime(2026, 11, 23, 14, 12, 17, tzinfo=UTC)  # 17:12 in Moscow
DOC_ID = "01JDQ7Z8K3V5M2N4P6R8T0W1XY"
URL = f"https://kabinet.example/verify/{DOC_ID}"


@pytest.fixture(scope="module")
def ident() -> signer.Identity:
    return signer.Identity.from_json(signer.new_identity("test"))


@pytest.fixture(scope="module")
def extract() -> bytes:
    layout = pdf.Layout(
        title="Выписка из профиля",
        subtitle="Сведения учётной записи портала госуслуг",
        sections=[
            pdf.Section(heading="Сведения о пользователе", rows=[
                ("Фамилия, имя, отчество", "Щербакова Юлия Викторовна"),
                ("Дата рождения", "12.04.1988"),
                ("Мобильный телефон", "+7 916 123-45-67"),
                ("Электронная почта", "yulia@example.ru"),
                ("Уровень учётной записи", "Подтверждённая"),
            ]),
            pdf.Section(paragraphs=["Выписка сформирована автоматически и подписана электронной подписью системы."]),
        ],
    )
    return pdf.render(layout, document_id=DOC_ID, verify_url=URL, issued_at=ISSUED)


@pytest.fixture(scope="module")
def signing(extract: bytes, ident: signer.Identity) -> tuple[signer.SignedPdf, datetime, datetime]:
    """The signed extract and the real-time window its signing happened in (whole seconds, as signed_at)."""
    before = datetime.now(UTC).replace(microsecond=0)
    done = signer.sign(extract, reason="Выписка из профиля", ident=ident)
    return done, before, datetime.now(UTC)


@pytest.fixture(scope="module")
def signed(signing: tuple[signer.SignedPdf, datetime, datetime]) -> signer.SignedPdf:
    return signing[0]


def _text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def _validation_context(ident: signer.Identity):
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(trust_roots=list(ident.trust), allow_fetching=False)


# --- layout ---------------------------------------------------------------------------------------------------

def test_russian_text_metadata_and_footer(extract):
    (page,) = _text(extract)
    for words in ("Госуслуги · Личный кабинет", "Выписка из профиля", "Щербакова Юлия Викторовна",
                  "Уровень учётной записи", "Подтверждённая", "23.11.2026 17:12", DOC_ID,
                  f"Проверить подлинность: {URL}", "Страница 1 из 1"):
        assert words in page
    meta = PdfReader(io.BytesIO(extract)).metadata
    assert meta["/Title"] == "Выписка из профиля"
    assert meta["/Creator"] == "Kabinet"
    assert meta[pdf.DOCUMENT_ID_KEY] == DOC_ID
    assert meta["/Subject"] == DOC_ID


def test_render_is_deterministic(extract):
    layout = pdf.Layout(title="Выписка из профиля", sections=[pdf.Section(rows=[("Имя", "Юлия")])])
    once = pdf.render(layout, document_id=DOC_ID, verify_url=URL, issued_at=ISSUED)
    assert once == pdf.render(layout, document_id=DOC_ID, verify_url=URL, issued_at=ISSUED)


def test_long_table_spans_pages_with_a_footer_on_each():
    rows = [[str(n), "01.02.2026 10:15", f"Замена паспорта гражданина РФ, заявление № {n}", "Принято"]
            for n in range(1, 121)]
    layout = pdf.Layout(title="Журнал заявлений", subtitle="Все заявления за 2026 год", sections=[
        pdf.Section(heading="Заявления", table=pdf.Table(header=["№", "Дата", "Услуга", "Статус"], rows=rows,
                                                           widths=(1, 3, 7, 2)))])
    pages = _text(pdf.render(layout, document_id=DOC_ID, verify_url=URL, issued_at=ISSUED))
    assert len(pages) >= 2
    for number, page in enumerate(pages, 1):
        assert DOC_ID in page
        assert f"Проверить подлинность: {URL}" in page
        assert f"Страница {number} из {len(pages)}" in page
        assert "Услуга" in page  # the table header repeats on every page
    everything = "\n".join(pages)
    assert "заявление № 1\n" in everything or "заявление № 1 " in everything
    assert "заявление № 120" in everything


def test_qr_code_is_drawn_on_every_page():
    """Vector modules, not an image: each page's content has the same run of filled rectangles."""
    layout = pdf.Layout(title="Справка", sections=[pdf.Section(paragraphs=["Текст. " * 400] * 6)])
    reader = PdfReader(io.BytesIO(pdf.render(layout, document_id=DOC_ID, verify_url=URL, issued_at=ISSUED)))
    assert len(reader.pages) >= 2
    counts = {page.get_contents().get_data().count(b" re") for page in reader.pages}
    assert len(counts) == 1 and counts.pop() > 100
    assert all("/XObject" not in page["/Resources"] for page in reader.pages)


# --- signing ----------------------------------------------------------------------------------------------------

def test_pyhanko_validator_accepts_the_signature(signed, ident):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature

    (signature,) = PdfFileReader(io.BytesIO(signed.data)).embedded_signatures
    status = validate_pdf_signature(signature, signer_validation_context=_validation_context(ident))
    assert status.intact and status.valid and status.trusted
    assert status.bottom_line
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    assert signature.sig_object["/Reason"] == "Выписка из профиля"
    assert clock.iso(status.signer_reported_dt) == signed.signed_at


def test_sign_and_verify(signing, ident):
    signed, before, after = signing
    assert signed.sha256 == hashlib.sha256(signed.data).hexdigest()
    assert signed.signed_by == "Служба подписи документов (test), Кабинет госуслуг"
    signed_at = datetime.strptime(signed.signed_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)  # UTC ISO, a Z
    assert before <= signed_at <= after
    found = signer.verify(signed.data, ident=ident)
    assert found.valid and found.ours and found.intact and found.reason is None
    assert found.signed_by == "Служба подписи документов (test), Кабинет госуслуг"  # read from the file
    assert found.signed_at == signed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert found.sha256 == hashlib.sha256(signed.data).hexdigest() == signed.sha256
    assert found.document_id == DOC_ID
    assert found.title == "Выписка из профиля"
    assert found.to_dict()["document_id"] == DOC_ID
    assert "Щербакова Юлия Викторовна" in _text(signed.data)[0]  # signing keeps the text extractable


def test_signing_time_follows_our_clock(extract, ident):
    moment = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    clock.use(lambda: moment)
    try:
        signed = signer.sign(extract, reason="Выписка из профиля", ident=ident)
        found = signer.verify(signed.data, ident=ident)
    finally:
        clock.reset()
    assert signed.signed_at == found.signed_at == moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert found.valid


def test_expired_certificate_still_verifies_documents_signed_while_it_was_valid(extract):
    """Validation is as of the claimed signing time: a document outlives the certificate that signed it."""
    long_ago = datetime(2020, 3, 1, 9, 0, tzinfo=UTC)
    clock.use(lambda: long_ago)
    try:
        old = signer.Identity.from_json(signer.new_identity("2020"))
        signed = signer.sign(extract, reason="Выписка из профиля", ident=old)
    finally:
        clock.reset()
    assert old.cert.not_valid_after < datetime.now(UTC)
    found = signer.verify(signed.data, ident=old)
    assert found.valid, found.reason
    assert found.signed_at == "2020-03-01T09:00:00Z"


# --- verification of what people upload --------------------------------------------------------------------------

def test_a_flipped_byte_in_the_content_is_detected(signed, ident):
    data = bytearray(signed.data)
    signature_at = data.index(b"/Contents <")
    stream_at = data.index(b"stream\n") + len(b"stream\n") + 20  # the first page's content stream
    assert stream_at < signature_at
    data[stream_at] ^= 0x01
    found = signer.verify(bytes(data), ident=ident)
    assert not found.valid and not found.intact and found.ours
    assert found.reason == "Документ изменён после подписания"
    assert found.sha256 == hashlib.sha256(bytes(data)).hexdigest()


def test_a_flipped_byte_in_the_signature_value_is_detected(signed, ident):
    data = bytearray(signed.data)
    end = data.index(b"/Contents <") + len(b"/Contents <")
    # The last bytes of the CMS structure are the ECDSA signature value; find them before the zero padding.
    hex_end = end + len(bytes(data[end:data.index(b">", end)]).rstrip(b"0"))
    data[hex_end - 4] = ord("0") if data[hex_end - 4] != ord("0") else ord("1")
    found = signer.verify(bytes(data), ident=ident)
    assert not found.valid and found.reason


@pytest.mark.parametrize("garbage", [b"not a pdf", b"", b"%PDF-1.7\n%%EOF", bytes(range(256)) * 10])
def test_garbage_is_not_valid_and_does_not_raise(garbage, ident):
    found = signer.verify(garbage, ident=ident)
    assert not found.valid and not found.ours and found.reason
    assert found.sha256 == hashlib.sha256(garbage).hexdigest()


def test_truncated_files_are_not_valid(signed, ident):
    for cut in (len(signed.data) // 2, len(signed.data) - 10, 100):
        found = signer.verify(signed.data[:cut], ident=ident)
        assert not found.valid and found.reason


def test_unsigned_pdf(extract, ident):
    found = signer.verify(extract, ident=ident)
    assert not found.valid and not found.ours
    assert found.reason == "Подпись не найдена"
    assert found.document_id == DOC_ID  # still read from the metadata


def test_signed_by_someone_else(extract, ident):
    other = signer.Identity.from_json(signer.new_identity("other"))
    foreign = signer.sign(extract, reason="Выписка из профиля", ident=other)
    found = signer.verify(foreign.data, ident=ident)
    assert not found.valid and not found.ours
    assert found.reason == "Подпись выполнена не нашей системой"
    assert found.signed_by == "Служба подписи документов (other), Кабинет госуслуг"


def test_trusted_but_not_our_certificate_is_not_ours(extract, ident):
    """`ours` is by certificate, not by trust: a trusted root may issue certificates to others too."""
    other = signer.Identity.from_json(signer.new_identity("other"))
    foreign = signer.sign(extract, reason="Выписка из профиля", ident=other)
    trusting_both = dataclasses.replace(ident, trust=(*ident.trust, *other.trust))
    found = signer.verify(foreign.data, ident=trusting_both)
    assert not found.ours and not found.valid
    assert found.reason == "Подпись выполнена не нашей системой"


def test_previous_signing_certificate_still_counts_as_ours(signed, ident):
    rotated = signer.Identity.from_json(signer.new_identity("test"))
    after_rotation = dataclasses.replace(rotated, trust=(*rotated.trust, *ident.trust), previous=(ident.cert,))
    found = signer.verify(signed.data, ident=after_rotation)
    assert found.valid and found.ours
    assert not signer.verify(signed.data, ident=rotated).ours


def test_an_incremental_update_after_signing_is_rejected(signed, ident):
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(signed.data))
    page_ref, _ = writer.find_page_for_modification(0)
    annotation = writer.add_object(generic.DictionaryObject({
        generic.pdf_name("/Type"): generic.pdf_name("/Annot"),
        generic.pdf_name("/Subtype"): generic.pdf_name("/Text"),
        generic.pdf_name("/Rect"): generic.ArrayObject([generic.FloatObject(v) for v in (50, 50, 80, 80)]),
        generic.pdf_name("/Contents"): generic.pdf_string("Действительно до 2099 года"),
    }))
    writer.register_annotation(page_ref, annotation)
    writer.document_meta.title = "Выписка из профиля (исправленная)"
    out = io.BytesIO()
    writer.write(out)
    updated = out.getvalue()
    assert updated.startswith(signed.data)

    found = signer.verify(updated, ident=ident)
    assert not found.valid and found.ours and found.intact
    assert found.reason == "В документ внесены изменения после подписания"


def test_bytes_appended_after_the_end_are_rejected(signed, ident):
    found = signer.verify(signed.data + b"\n% appended\n", ident=ident)
    assert not found.valid and found.reason
