"""Documents the system issues (DC-4, SV-9): a signed "Выписка из профиля" in "Мои документы", with Russian
text, a signature pyhanko's own validator accepts, and public checks by id and by file."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime

import pytest
import requests

from chalicelib.adapters import signer
from chalicelib.core import clock
from chalicelib.core.aws import client
from chalicelib.core.config import settings
from tests import files


@pytest.fixture
def user(api):
    return api.register(phone="+79161234567", middle_name="Викторович")


def _issue(api, token: str) -> tuple[dict, bytes]:
    resp = api.post("/documents/generate/profile-extract", token=token)
    assert resp.status_code == 201, resp.json
    link = api.get(f"/documents/{resp.json['id']}/download", token=token).json
    pdf = requests.get(link["url"], timeout=10).content
    return resp.json, pdf


def test_dates_read_dd_mm_yyyy_and_snils_as_on_the_card(api, user):
    """ID-3: a person reads 12.04.1985, not 1985-04-12, and SNILS as NNN-NNN-NNN NN."""
    from pypdf import PdfReader

    client("dynamodb").update_item(
        TableName=settings().table, Key={"pk": {"S": f"USER#{user['user_id']}"}, "sk": {"S": "PROFILE"}},
        UpdateExpression="SET birth_date = :b, snils = :s",
        ExpressionAttributeValues={":b": {"S": "1985-04-12"}, ":s": {"S": "11223344595"}})
    _, pdf = _issue(api, user["access_token"])
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "12.04.1985" in text and "112-233-445 95" in text, text
    assert "1985-04-12" not in text and "11223344595" not in text


def _verify(api, data: bytes) -> dict:
    resp = api.call("POST", "/verify", raw=data, headers={"content-type": "application/pdf"})
    assert resp.status_code == 200, resp.json
    return resp.json


def test_profile_extract_is_a_signed_pdf_with_russian_text(api, user):
    from pypdf import PdfReader

    doc, pdf = _issue(api, user["access_token"])
    assert doc["category"] == "certificate" and doc["origin"] == "generated" and doc["status"] == "available"
    assert doc["title"] == "Выписка из профиля" and doc["filename"].endswith(".pdf")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for words in ("Выписка из профиля", "Кузнецов Алексей Викторович", "+79161234567", "Упрощённая", doc["id"],
                  f"/check/{doc['id']}"):
        assert words in text, (words, text)
    assert doc["versions"][0]["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert pdf.startswith(b"%PDF-")


def test_pyhankos_validator_accepts_the_signature(api, user):
    from asn1crypto import pem, x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    _, pdf = _issue(api, user["access_token"])
    secret = json.loads(client("secretsmanager").get_secret_value(
        SecretId=settings().document_signing_secret_id)["SecretString"])
    roots = [x509.Certificate.load(pem.unarmor(p.encode())[2]) for p in secret["trust"]]
    signatures = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    assert len(signatures) == 1
    context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
    status = validate_pdf_signature(signatures[0], context)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()


def test_anyone_checks_it_by_id_and_by_file_and_a_flipped_byte_fails(api, user):
    """The public check names the system's signing service of this stage and the moment of signing, which lies
    within the test's own window and is the one written in the PDF's signature."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    before = datetime.now(UTC).replace(microsecond=0)
    doc, pdf = _issue(api, user["access_token"])
    after = datetime.now(UTC)
    public = api.get(f"/verify/{doc['id']}")  # no sign-in: whoever holds the paper scans the QR code
    assert public.status_code == 200
    assert public.json == {"valid": True, "document_id": doc["id"], "title": "Выписка из профиля",
                           "signed_by": "Служба подписи документов (local), Кабинет госуслуг",
                           "signed_at": public.json["signed_at"], "sha256": hashlib.sha256(pdf).hexdigest()}
    signed_at = datetime.strptime(public.json["signed_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= signed_at <= after
    (signature,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    assert signature.self_reported_timestamp.astimezone(UTC).replace(microsecond=0) == signed_at
    subject = signature.signer_cert.subject.native
    assert (subject["common_name"], subject["organization_name"]) == ("Служба подписи документов (local)",
                                                                       "Кабинет госуслуг")

    ok = _verify(api, pdf)
    assert ok["valid"] and ok["ours"] and ok["intact"] and ok["registered"] and ok["document_id"] == doc["id"]
    assert ok["reason"] is None and ok["sha256"] == public.json["sha256"]

    middle = len(pdf) // 3
    forged = _verify(api, pdf[:middle] + bytes([pdf[middle] ^ 0x01]) + pdf[middle + 1:])
    assert forged["valid"] is False and forged["reason"]


def test_a_pdf_signed_by_someone_else_or_not_signed_is_not_ours(api, user):
    from chalicelib.documents import pdf as layout

    doc, _ = _issue(api, user["access_token"])
    other = signer.Identity.from_json(signer.new_identity("other"))
    lookalike = layout.render(layout.Layout(title="Выписка из профиля", subtitle=None, sections=[]),
                              document_id=doc["id"], verify_url="http://x/verify", issued_at=clock.now())
    foreign = _verify(api, signer.sign(lookalike, reason="test", ident=other).data)
    assert foreign["valid"] is False and foreign["ours"] is False
    unsigned = _verify(api, lookalike)
    assert unsigned["valid"] is False and unsigned["reason"]
    assert _verify(api, b"%PDF-1.7 not really")["valid"] is False


def test_verify_refuses_bad_requests_in_the_one_shape(api):
    empty = api.call("POST", "/verify", raw=b"", headers={"content-type": "application/pdf"})
    assert empty.status_code == 400 and empty.json["error"]["code"] == "EMPTY_BODY"
    huge = api.call("POST", "/verify", raw=b"%PDF-" + b"0" * (10 * 1024 * 1024),
                    headers={"content-type": "application/pdf"})
    assert huge.status_code == 413 and huge.json["error"]["code"] == "PAYLOAD_TOO_LARGE"
    wrong = api.call("POST", "/verify", raw=b"{}", headers={"content-type": "text/plain"})
    assert wrong.status_code == 415 and wrong.json["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    for unknown in ("01ARZ3NDEKTSV4RRFFQ69G5FAV", "nonsense"):
        missing = api.get(f"/verify/{unknown}")
        assert missing.status_code == 404 and missing.json["error"]["code"] == "NOT_FOUND"


def test_an_issued_document_is_journaled_private_and_not_replaceable(api, user):
    token = user["access_token"]
    doc, _ = _issue(api, token)
    journal = api.get(f"/documents/{doc['id']}/journal", token=token).json["items"]
    assert [e["action"] for e in journal] == ["downloaded", "issued"]
    assert journal[1]["actor"] == {"kind": "owner", "name": "Владелец"}  # asked for by the person, not the system
    replace = api.post(f"/documents/{doc['id']}/versions", {"filename": "a.pdf", "content_type": "application/pdf",
                                                             "size": 100}, token=token)
    assert replace.status_code == 409 and replace.json["error"]["code"] == "DOCUMENT_ISSUED"
    other = api.register(phone="+79167654321", last_name="Смирнова", first_name="Анна")["access_token"]
    assert api.get(f"/documents/{doc['id']}/download", token=other).status_code == 404
    assert api.get(f"/verify/{doc['id']}").json["valid"] is True  # the public facts carry no personal data
    assert [d["id"] for d in api.get("/documents?category=certificate", token=token).json["items"]] == [doc["id"]]
    # A person's own upload in the same category is not mistaken for an issued one.
    upload_id = api.upload(token, files.pdf(), category="certificate")
    assert _verify(api, files.pdf())["valid"] is False
    assert api.get(f"/verify/{upload_id}").status_code == 404
