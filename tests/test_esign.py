"""Qualified e-signature (AU-5, DC-5, issue 11 §6): binding a certificate with a one-time code (and the confirmed
tier it brings, ID-7), sign-in without a password, signing applications, expiry reminders, isolation.

Certificates come from the local cloud's test accredited CA (infra/esign_ca.py), the way `make run` issues them;
the untrusted, expired, wrong-usage and forged ones are made here. Expected texts are the issue's.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chalicelib.adapters import esign_trust
from chalicelib.esign import binding
from chalicelib.identity.accounts import add_account
from chalicelib.store import keys, table
from chalicelib.store.table import Tx
from infra import esign_ca
from tests import files
from tests.conftest import PASSWORD

SNILS, INN = "11223344595", "500100732259"
OTHER_SNILS, OTHER_INN = "11223344696", "500100732260"
PASSPORT = {"series": "4510", "number": "123456", "issued_at": "2015-05-20", "issued_by": "ОУФМС",
            "division_code": "770-001"}
NCR = {"last_name": "Семёнов", "first_name": "Пётр", "birth_date": "1980-02-03", "birth_place": "г. Тверь",
       "snils": SNILS, "purpose": "employment", "address": "г. Тверь, ул. Советская, д. 5, кв. 7"}
NOT_FOUND, EXPIRED, BAD_SIGNATURE = "сертификат не найден", "срок действия сертификата истёк", "подпись неверна"


@pytest.fixture(autouse=True)
def _fresh_trust_list(cloud):
    """Each test's cloud has a new test CA: the container's cached trusted list must not outlive it."""
    esign_trust.trust_list.cache_clear()
    yield
    esign_trust.trust_list.cache_clear()


def person(api, phone="+79163330001", snils=SNILS, inn=INN, last_name="Семёнов", tier="standard"):
    """An account whose personal data the registries checked (standard tier), signed in."""
    tx = Tx()
    logins = {"phone": phone, **({"snils": snils} if snils else {}), **({"inn": inn} if inn else {})}
    user = add_account(tx, last_name=last_name, first_name="Пётр", middle_name="Ильич", password=PASSWORD,
                       tier=tier, logins=logins, birth_date="1980-02-03", passport=PASSPORT,
                       address="г. Тверь, ул. Советская, д. 5, кв. 7")
    tx.commit()
    return {"user_id": user["user_id"], "phone": phone, "token": api.login(phone)["access_token"]}


def issue(snils=SNILS, inn=INN, last_name="Семёнов", **kw):
    return esign_ca.issue(esign_ca.load_ca(), last_name=last_name, first_name="Пётр", middle_name="Ильич",
                          snils=snils, inn=inn, **kw)


def der_b64(pem: str) -> str:
    cert = x509.load_pem_x509_certificate(pem.encode())
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def user_item(user_id):
    return table.get(keys.user(user_id))


def audit_actions(user_id):
    return [a["action"] for a in table.query(keys.user_pk(user_id), "AUDIT#", limit=200).items]


def bind(api, who, issued, certificate=None):
    resp = api.post("/me/esign/certificates", {"certificate": certificate or issued.cert_pem}, token=who["token"])
    assert resp.status_code == 202, resp.json
    code = api.code_about(who["phone"], "сертификата электронной подписи")
    done = api.post("/me/esign/certificates/confirm", {"code": code}, token=who["token"])
    assert done.status_code == 200, done.json
    return done.json


def sign_in(api, issued, content_for=None):
    challenge = api.post("/auth/esign/challenge")
    assert challenge.status_code == 201, challenge.json
    text = challenge.json["challenge"]
    signature = esign_ca.sign((content_for or text).encode(), issued.cert_pem, issued.key_pem)
    return text, signature, api.post("/auth/esign/login", {"challenge": text, "signature": signature})


def refused(resp, status, message=None, code=None):
    assert resp.status_code == status, resp.json
    error = resp.json["error"]
    if message:
        assert error["message"] == message, error
    if code:
        assert error["code"] == code, error
    return error


# -- binding ------------------------------------------------------------------------------------------------

def test_a_good_certificate_is_bound_with_a_code_and_confirms_identity(api):
    who = person(api)
    api.no_quiet_hours(who["token"])
    channels = {c["channel"]: c for c in api.get("/me/identity/channels", token=who["token"]).json["channels"]}
    assert channels["esign"]["available"] is True and channels["esign"]["note"] is None
    issued = issue()
    started = api.post("/me/esign/certificates", {"certificate": issued.cert_pem}, token=who["token"])
    assert started.status_code == 202, started.json
    assert started.json["channel"] == "sms" and started.json["certificate"]["owner"] == "Семёнов Пётр Ильич"
    assert started.json["certificate"]["issuer"] == "Тестовый аккредитованный удостоверяющий центр"
    assert user_item(who["user_id"])["tier"] == "standard"  # nothing bound before the code
    assert api.get("/me/esign/certificates", token=who["token"]).json["items"] == []
    code = api.code_about(who["phone"], "сертификата электронной подписи")
    done = api.post("/me/esign/certificates/confirm", {"code": code}, token=who["token"])
    assert done.status_code == 200, done.json
    assert done.json["tier"] == "confirmed" and done.json["tier_raised"] is True
    account = user_item(who["user_id"])
    assert (account["tier"], account["tier_channel"]) == ("confirmed", "esign")
    listed = api.get("/me/esign/certificates", token=who["token"]).json["items"]
    cert = x509.load_pem_x509_certificate(issued.cert_pem.encode())
    assert [c["sha256"] for c in listed] == [cert.fingerprint(hashes.SHA256()).hex()]
    assert listed[0]["serial"] == format(cert.serial_number, "x") and listed[0]["expired"] is False
    actions = audit_actions(who["user_id"])
    assert actions.count("identity.tier_raised") == 1 and "esign.bound" in actions
    api.pump.drain()
    notices = [m["text"] for m in api.outbox(who["phone"])]
    assert any("привязан сертификат" in t for t in notices), notices
    assert any("подтверждённая" in t and "квалифицированная электронная подпись" in t for t in notices), notices
    # The same certificate again, as DER in base64 this time: already bound here.
    again = api.post("/me/esign/certificates", {"certificate": der_b64(issued.cert_pem)}, token=who["token"])
    refused(again, 409, code="CERT_ALREADY_BOUND")


def test_a_second_certificate_binds_without_raising_an_already_confirmed_tier(api):
    who = person(api)
    bind(api, who, issue())
    renewed = issue()
    done = bind(api, who, renewed, certificate=der_b64(renewed.cert_pem))
    assert done["tier"] == "confirmed" and done["tier_raised"] is False
    assert len(api.get("/me/esign/certificates", token=who["token"]).json["items"]) == 2
    assert audit_actions(who["user_id"]).count("identity.tier_raised") == 1


def test_a_certificate_from_an_untrusted_ca_is_refused(api):
    who = person(api)
    stranger = esign_ca.new_ca(organization="Неаккредитованный УЦ", common_name="Чужой УЦ")
    issued = esign_ca.issue(stranger, last_name="Семёнов", first_name="Пётр", middle_name="Ильич", snils=SNILS,
                            inn=INN)
    error = refused(api.post("/me/esign/certificates", {"certificate": issued.cert_pem}, token=who["token"]), 400,
                    code="CERT_UNTRUSTED")
    assert "аккредитован" in error["fields"]["certificate"]
    # A self-signed certificate with the right subject is not trusted either.
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.ObjectIdentifier("1.2.643.100.3"), SNILS)])
    now = x509.load_pem_x509_certificate(issued.cert_pem.encode()).not_valid_before_utc
    self_signed = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(1).not_valid_before(now).not_valid_after(now + timedelta(days=30))
                   .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), True)
                   .sign(key, hashes.SHA256()))
    pem = self_signed.public_bytes(serialization.Encoding.PEM).decode()
    refused(api.post("/me/esign/certificates", {"certificate": pem}, token=who["token"]), 400, code="CERT_UNTRUSTED")
    assert api.get("/me/esign/certificates", token=who["token"]).json["items"] == []


def test_an_expired_certificate_is_refused(api, fake_clock):
    who = person(api)
    issued = issue(start=fake_clock.now - timedelta(days=400), days=30)
    error = refused(api.post("/me/esign/certificates", {"certificate": issued.cert_pem}, token=who["token"]), 400,
                    EXPIRED)
    assert error["fields"]["certificate"] == EXPIRED


def test_a_certificate_not_for_signatures_is_refused(api):
    who = person(api)
    refused(api.post("/me/esign/certificates", {"certificate": issue(signing=False).cert_pem}, token=who["token"]),
            400, code="CERT_KEY_USAGE")


def test_a_certificate_of_someone_else_is_refused(api):
    who = person(api)
    error = refused(api.post("/me/esign/certificates", {"certificate": issue(snils=OTHER_SNILS).cert_pem},
                             token=who["token"]), 400, code="CERT_SUBJECT_MISMATCH")
    assert "СНИЛС" in error["fields"]["certificate"]
    error = refused(api.post("/me/esign/certificates", {"certificate": issue(inn=OTHER_INN).cert_pem},
                             token=who["token"]), 400, code="CERT_SUBJECT_MISMATCH")
    assert "ИНН" in error["fields"]["certificate"]


def test_garbage_is_a_field_error_and_a_simplified_account_cannot_bind(api):
    who = person(api)
    for text in ("not a certificate", base64.b64encode(b"\x30\x03\x02\x01\x01").decode(), "-----BEGIN junk"):
        error = refused(api.post("/me/esign/certificates", {"certificate": text}, token=who["token"]), 400)
        assert "certificate" in error["fields"]
    newcomer = person(api, phone="+79163330009", snils=None, inn=None, tier="simplified")
    refused(api.post("/me/esign/certificates", {"certificate": issue().cert_pem}, token=newcomer["token"]), 403,
            code="TIER_REQUIRED")


def test_a_wrong_expired_or_exhausted_binding_code_binds_nothing(api, fake_clock):
    who = person(api)
    assert api.post("/me/esign/certificates", {"certificate": issue().cert_pem}, token=who["token"]).status_code == 202
    code = api.code_about(who["phone"], "сертификата электронной подписи")
    wrong = "000000" if code != "000000" else "111111"
    error = refused(api.post("/me/esign/certificates/confirm", {"code": wrong}, token=who["token"]), 400,
                    code="CODE_INVALID")
    assert error["attempts_left"] == 4
    fake_clock.advance(301)  # codes live 5 minutes
    refused(api.post("/me/esign/certificates/confirm", {"code": code}, token=who["token"]), 410, code="CODE_EXPIRED")
    # A new upload, a new code; five wrong tries kill it and the right one no longer works.
    assert api.post("/me/esign/certificates", {"certificate": issue().cert_pem}, token=who["token"]).status_code == 202
    code = api.code_about(who["phone"], "сертификата электронной подписи")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        refused(api.post("/me/esign/certificates/confirm", {"code": wrong}, token=who["token"]), 400)
    refused(api.post("/me/esign/certificates/confirm", {"code": code}, token=who["token"]), 429,
            code="CODE_ATTEMPTS_EXCEEDED")
    assert user_item(who["user_id"])["tier"] == "standard"
    assert api.get("/me/esign/certificates", token=who["token"]).json["items"] == []


def test_parallel_confirmations_bind_and_confirm_exactly_once(api):
    who = person(api)
    issued = issue()
    assert api.post("/me/esign/certificates", {"certificate": issued.cert_pem}, token=who["token"]).status_code == 202
    code = api.code_about(who["phone"], "сертификата электронной подписи")
    results: list[str] = []
    barrier = threading.Barrier(4)

    def run(n):
        barrier.wait()
        try:
            binding.confirm(who["user_id"], code, f"203.0.113.{n}")
            results.append("ok")
        except Exception as exc:  # the losers' refusals, whatever they are
            results.append(getattr(exc, "code", type(exc).__name__))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1, results
    bound = table.query(keys.user_pk(who["user_id"]), keys.ESIGN_CERTS, limit=10).items
    assert len(bound) == 1
    actions = audit_actions(who["user_id"])
    assert actions.count("identity.tier_raised") == 1 and actions.count("esign.bound") == 1
    assert user_item(who["user_id"])["tier"] == "confirmed"


# -- sign-in without a password ----------------------------------------------------------------------------------

def test_sign_in_with_a_signed_challenge_opens_a_session(api):
    who = person(api)
    issued = issue()
    bind(api, who, issued)
    text, signature, resp = sign_in(api, issued)
    assert resp.status_code == 200, resp.json
    tokens = resp.json
    assert tokens["user_id"] == who["user_id"] and tokens["tier"] == "confirmed"
    me = api.get("/me", token=tokens["access_token"])
    assert me.status_code == 200 and me.json["user_id"] == who["user_id"]
    history = api.get("/me/login-history", token=tokens["access_token"]).json["items"]
    assert history[0]["method"] == "esign" and history[0]["result"] == "success"
    assert api.post("/auth/token/refresh", {"refresh_token": tokens["refresh_token"]}).status_code == 200
    # The challenge works once: the same signed challenge again is refused.
    replay = api.post("/auth/esign/login", {"challenge": text, "signature": signature})
    refused(replay, 401, code="CHALLENGE_INVALID")


def test_sign_in_refusals_say_what_the_issue_names(api, fake_clock):
    who = person(api)
    bound = issue(days=30)
    bind(api, who, bound)
    # A certificate of the accredited CA that is bound to no account.
    _, _, resp = sign_in(api, issue())
    refused(resp, 401, NOT_FOUND)
    # A signature over something else than the challenge.
    _, _, resp = sign_in(api, bound, content_for="kabinet-login:" + "A" * 43)
    refused(resp, 401, BAD_SIGNATURE)
    # The bound certificate, but the signature made with another key.
    challenge = api.post("/auth/esign/challenge").json["challenge"]
    forged = _forged(challenge.encode(), bound.cert_pem)
    refused(api.post("/auth/esign/login", {"challenge": challenge, "signature": forged}), 401, BAD_SIGNATURE)
    # Not a signature at all.
    challenge = api.post("/auth/esign/challenge").json["challenge"]
    refused(api.post("/auth/esign/login", {"challenge": challenge, "signature": "AAAA"}), 401, BAD_SIGNATURE)
    # The bound certificate after its expiry; the attempt shows in the owner's history.
    fake_clock.advance(31 * 86400 + 7200)
    _, _, resp = sign_in(api, bound)
    refused(resp, 401, EXPIRED)
    rows = table.query(keys.user_pk(who["user_id"]), "LOGIN#", limit=20).items
    assert [(r["method"], r["result"]) for r in rows if r["method"] == "esign"] == [("esign", "failure")]


def test_a_challenge_expires_and_an_unknown_one_is_refused(api, fake_clock):
    who = person(api)
    issued = issue()
    bind(api, who, issued)
    challenge = api.post("/auth/esign/challenge").json["challenge"]
    fake_clock.advance(301)
    signature = esign_ca.sign(challenge.encode(), issued.cert_pem, issued.key_pem)
    refused(api.post("/auth/esign/login", {"challenge": challenge, "signature": signature}), 401,
            code="CHALLENGE_INVALID")
    made_up = "kabinet-login:" + "B" * 43
    signature = esign_ca.sign(made_up.encode(), issued.cert_pem, issued.key_pem)
    refused(api.post("/auth/esign/login", {"challenge": made_up, "signature": signature}), 401,
            code="CHALLENGE_INVALID")


def test_an_unbound_certificate_no_longer_signs_in(api):
    who = person(api)
    issued = issue()
    certificate = bind(api, who, issued)["certificate"]
    other = person(api, phone="+79163330002", snils=OTHER_SNILS, inn=OTHER_INN, last_name="Орлов")
    assert api.call("DELETE", f"/me/esign/certificates/{certificate['id']}", token=other["token"]).status_code == 404
    assert api.call("DELETE", f"/me/esign/certificates/{certificate['id']}", token=who["token"]).status_code == 204
    _, _, resp = sign_in(api, issued)
    refused(resp, 401, NOT_FOUND)
    assert user_item(who["user_id"])["tier"] == "confirmed"  # a confirmed identity stays confirmed


def test_a_wrong_pin_is_the_signing_tools_business(api):
    issued = issue(pin="1234")
    with pytest.raises(esign_ca.WrongPin):
        esign_ca.sign(b"kabinet-login:x", issued.cert_pem, issued.key_pem, pin="0000")
    assert esign_ca.sign(b"kabinet-login:x", issued.cert_pem, issued.key_pem, pin="1234")


def _forged(content: bytes, cert_pem: str) -> str:
    """A detached CMS naming `cert_pem` as its signer, signed with a key that is not the certificate's."""
    from asn1crypto import cms

    stranger = esign_ca.issue(esign_ca.new_ca(), last_name="Чужой", first_name="Ключ", middle_name=None,
                              snils=SNILS, inn=INN)
    der = base64.b64decode(esign_ca.sign(content, stranger.cert_pem, stranger.key_pem))
    info = cms.ContentInfo.load(der)
    victim = cms.CertificateChoices.load(
        x509.load_pem_x509_certificate(cert_pem.encode()).public_bytes(serialization.Encoding.DER))
    signed = info["content"]
    signed["certificates"] = cms.CertificateSet([victim])
    signer = signed["signer_infos"][0]
    signer["sid"] = cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber({
        "issuer": victim.chosen["tbs_certificate"]["issuer"],
        "serial_number": victim.chosen["tbs_certificate"]["serial_number"]})})
    return base64.b64encode(info.dump(force=True)).decode()


# -- signing applications ------------------------------------------------------------------------------------

def _submit(api, who):
    passport = api.upload(who["token"], files.pdf(), category="passport")
    resp = api.post("/requests", {"type": "no-criminal-record", "params": NCR, "attachments": [passport]},
                    token=who["token"])
    assert resp.status_code == 201, resp.json
    api.pump.drain()
    return resp.json, passport


def test_an_application_is_signed_over_its_canonical_content_and_journaled(api):
    who = person(api)
    issued = issue()
    bind(api, who, issued)
    created, passport = _submit(api, who)
    first = api.get(f"/requests/{created['id']}/signature-content", token=who["token"])
    assert first.status_code == 200, first.json
    again = api.get(f"/requests/{created['id']}/signature-content", token=who["token"]).json
    assert again == first.json  # deterministic bytes
    content = first.json["content"].encode()
    assert base64.b64decode(first.json["content_base64"]) == content
    assert first.json["sha256"] == hashlib.sha256(content).hexdigest()
    doc = json.loads(content)  # the submitted form, the service and the number (and the attachments' hashes)
    assert doc["number"] == created["number"] and doc["service_id"] == "no-criminal-record"
    assert doc["params"] == NCR and set(doc["attachments"]) == {passport}
    signature = esign_ca.sign(content, issued.cert_pem, issued.key_pem)
    done = api.post(f"/requests/{created['id']}/signature", {"signature": signature}, token=who["token"])
    assert done.status_code == 201, done.json
    assert done.json["content_sha256"] == hashlib.sha256(content).hexdigest()
    journal = api.get(f"/requests/{created['id']}", token=who["token"]).json["journal"]
    [line] = [j for j in journal if j["kind"] == "signature"]
    cert = x509.load_pem_x509_certificate(issued.cert_pem.encode())
    assert line["signature"]["serial"] == format(cert.serial_number, "x")
    assert base64.b64decode(line["signature"]["cms"]) == base64.b64decode(signature)
    assert line["signature"]["content_sha256"] == hashlib.sha256(content).hexdigest()
    assert "request.signed" in audit_actions(who["user_id"])
    refused(api.post(f"/requests/{created['id']}/signature", {"signature": signature}, token=who["token"]), 409,
            code="ALREADY_SIGNED")
    pdf = api.get(f"/requests/{created['id']}/journal.pdf", token=who["token"], headers={"accept": "application/pdf"})
    assert pdf.status_code == 200


def test_a_forged_application_signature_is_refused(api):
    who = person(api)
    issued = issue()
    bind(api, who, issued)
    created, _ = _submit(api, who)
    content = api.get(f"/requests/{created['id']}/signature-content", token=who["token"]).json["content"]
    path = f"/requests/{created['id']}/signature"
    tampered = content.replace("employment", "visa").encode()
    error = refused(api.post(path, {"signature": esign_ca.sign(tampered, issued.cert_pem, issued.key_pem)},
                             token=who["token"]), 400, BAD_SIGNATURE)
    assert error["fields"]["signature"] == BAD_SIGNATURE
    refused(api.post(path, {"signature": _forged(content.encode(), issued.cert_pem)}, token=who["token"]), 400,
            BAD_SIGNATURE)
    unbound = issue()  # the person's own SNILS and a real CA, but never bound
    refused(api.post(path, {"signature": esign_ca.sign(content.encode(), unbound.cert_pem, unbound.key_pem)},
                     token=who["token"]), 400, NOT_FOUND)
    journal = api.get(f"/requests/{created['id']}", token=who["token"]).json["journal"]
    assert not [j for j in journal if j["kind"] == "signature"]


def test_another_person_cannot_see_or_sign_the_application_or_the_certificates(api):
    who = person(api)
    issued = issue()
    bind(api, who, issued)
    created, _ = _submit(api, who)
    content = api.get(f"/requests/{created['id']}/signature-content", token=who["token"]).json["content"]
    other = person(api, phone="+79163330002", snils=OTHER_SNILS, inn=OTHER_INN, last_name="Орлов")
    theirs = issue(snils=OTHER_SNILS, inn=OTHER_INN, last_name="Орлов")
    bind(api, other, theirs)
    assert api.get("/me/esign/certificates", token=other["token"]).json["items"][0]["sha256"] != \
        api.get("/me/esign/certificates", token=who["token"]).json["items"][0]["sha256"]
    assert len(api.get("/me/esign/certificates", token=other["token"]).json["items"]) == 1
    refused(api.get(f"/requests/{created['id']}/signature-content", token=other["token"]), 404)
    for cert in (theirs, issued):  # neither their own certificate nor (had they the key) the owner's
        signature = esign_ca.sign(content.encode(), cert.cert_pem, cert.key_pem)
        refused(api.post(f"/requests/{created['id']}/signature", {"signature": signature}, token=other["token"]),
                404)
    # Nor does a certificate bound to someone else sign the owner's application, even sent by the owner.
    signature = esign_ca.sign(content.encode(), theirs.cert_pem, theirs.key_pem)
    refused(api.post(f"/requests/{created['id']}/signature", {"signature": signature}, token=who["token"]), 400,
            NOT_FOUND)
    # The owner's certificate cannot be bound to the other account (the subject's SNILS is not theirs).
    refused(api.post("/me/esign/certificates", {"certificate": issued.cert_pem}, token=other["token"]), 400,
            code="CERT_SUBJECT_MISMATCH")


def test_a_draft_cannot_be_signed(api):
    who = person(api, tier="confirmed")  # the certificate needs the confirmed tier (docs/catalog.md)
    draft = api.post("/requests", {"type": "no-criminal-record", "params": {"purpose": "visa"}, "draft": True},
                     token=who["token"]).json
    refused(api.get(f"/requests/{draft['id']}/signature-content", token=who["token"]), 409, code="NOT_SUBMITTED")


# -- expiry reminders -------------------------------------------------------------------------------------------

def test_the_expiry_reminder_goes_once_30_days_before(api, fake_clock):
    who = person(api)
    bind(api, who, issue(days=40))
    api.no_quiet_hours(who["token"])
    api.pump.drain()

    def run():
        resp = api.post("/dev/schedules/password_expiry_reminder")
        assert resp.status_code == 200, resp.json
        return resp.json["result"]["esign_reminded"]

    def reminders():
        return [m for m in api.outbox(who["phone"]) if "истекает" in m["text"] and "подписи" in m["text"]]

    assert run() == 0 and reminders() == []
    fake_clock.advance(9 * 86400)  # 31 days left
    assert run() == 0
    fake_clock.advance(86400 + 3 * 3600)  # 30 days left
    assert run() == 1
    assert len(reminders()) == 1
    assert run() == 0
    fake_clock.advance(86400)
    assert run() == 0 and len(reminders()) == 1
    inbox = api.get("/me/messages", token=api.login(who["phone"])["access_token"]).json["items"]
    assert [m["type"] for m in inbox].count("esign.expiring") == 1, inbox
