"""The system's document signing key: PAdES signatures on the PDFs the portal issues, and their verification.

The key and certificates come from Secrets Manager once per container:
`{"key": PKCS#8 PEM, "cert": PEM, "chain": [PEM, ...], "trust": [PEM, ...]}`, plus an optional
`"previous": [PEM, ...]` of earlier signing certificates, so documents signed before a key rotation still count
as ours. `chain` is embedded in every signature; `trust` is what a signature must chain to when verified.

Signatures are PAdES baseline B-B (no timestamp authority is reachable). A signature is verified as of the signing
time it claims (/M, covered by the signature itself), so an issued document stays verifiable after the certificate
expires; only our own key can produce a signature that passes, so the claim is as good as the key.

pyhanko and cryptography are imported inside the functions: the API's cold start must not pay for them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from io import BytesIO
from typing import Any

from chalicelib.core import clock
from chalicelib.core.aws import client
from chalicelib.core.config import settings

FIELD_NAME = "KabinetSignature"
LOCATION = "Российская Федерация"
ORGANIZATION = "Кабинет госуслуг"
CA_YEARS = 10
CERT_YEARS = 3
CLOCK_SKEW = timedelta(hours=1)  # certificates start a little in the past: a signer's clock may run behind
DOCUMENT_SIGNING_EKU = "1.3.6.1.5.5.7.3.36"  # id-kp-documentSigning, RFC 9336
DOCUMENT_ID_KEY = "/KabinetDocumentId"  # the /Info entry chalicelib.documents.pdf writes

NOT_PDF = "Файл повреждён или не является PDF"
NO_SIGNATURE = "Подпись не найдена"
NOT_OURS = "Подпись выполнена не нашей системой"
CHANGED = "Документ изменён после подписания"
APPENDED = "В документ внесены изменения после подписания"
BROKEN = "Подпись повреждена"
UNTRUSTED = "Сертификат подписи не прошёл проверку"


@dataclass(frozen=True)
class Identity:
    """The signing key with its certificates, parsed (asn1crypto objects, as pyhanko wants them)."""

    key: Any  # asn1crypto keys.PrivateKeyInfo
    cert: Any  # asn1crypto x509.Certificate: the signing certificate
    chain: tuple[Any, ...] = ()  # intermediates/CA, embedded in every signature
    trust: tuple[Any, ...] = ()  # roots a signature must chain to
    previous: tuple[Any, ...] = ()  # earlier signing certificates that still count as ours

    @classmethod
    def from_json(cls, text: str) -> Identity:
        from pyhanko.keys import load_private_key_from_pemder_data

        doc = json.loads(text)
        return cls(key=load_private_key_from_pemder_data(doc["key"].encode(), passphrase=None),
                   cert=_certs([doc["cert"]])[0], chain=_certs(doc.get("chain", [])),
                   trust=_certs(doc.get("trust", [])), previous=_certs(doc.get("previous", [])))

    @property
    def subject(self) -> str:
        return _describe(self.cert)

    def is_ours(self, cert: Any) -> bool:
        der = cert.dump()
        return any(der == mine.dump() for mine in (self.cert, *self.previous))


@dataclass(frozen=True)
class SignedPdf:
    data: bytes
    sha256: str  # hex digest of `data`, the whole signed file
    signed_by: str
    signed_at: str  # UTC ISO-8601, as the API shows time


@dataclass(frozen=True)
class Verification:
    """What a verifier learns about an uploaded PDF; `reason` says in Russian why it is not valid."""

    valid: bool  # intact, trusted, by our certificate, and nothing appended after the signature
    ours: bool
    intact: bool
    sha256: str  # of the bytes given
    signed_by: str | None = None
    signed_at: str | None = None
    document_id: str | None = None
    title: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@cache
def identity() -> Identity:
    raw = client("secretsmanager").get_secret_value(SecretId=settings().document_signing_secret_id)["SecretString"]
    return Identity.from_json(raw)


def self_signed_ca(organization: str, common_name: str, years: int, start: datetime):  # type: ignore[no-untyped-def]
    """A local certificate authority: a P-256 key and its self-signed certificate, able to sign certificates only.
    For the local clouds' document signer and the test accredited CA of the e-signature (infra/esign_ca.py)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "RU"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def new_identity(stage: str) -> str:
    """A fresh local CA and a signing certificate it issued, as the secret value; used by the local bootstrap."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID, ObjectIdentifier

    start = clock.now().replace(microsecond=0) - CLOCK_SKEW
    ca_key, ca = self_signed_ca(ORGANIZATION, f"Kabinet local CA ({stage})", CA_YEARS, start)

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "RU"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
                      x509.NameAttribute(NameOID.COMMON_NAME, f"Служба подписи документов ({stage})")])
    ca_ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + timedelta(days=365 * CERT_YEARS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ObjectIdentifier(DOCUMENT_SIGNING_EKU)]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
            .sign(ca_key, hashes.SHA256()))

    def pem(c: x509.Certificate) -> str:
        return c.public_bytes(serialization.Encoding.PEM).decode()

    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return json.dumps({"key": key_pem, "cert": pem(cert), "chain": [pem(ca)], "trust": [pem(ca)]})


def sign(pdf: bytes, *, reason: str, ident: Identity | None = None, document_id: str | None = None,
         title: str | None = None) -> SignedPdf:
    """A PAdES B-B signature over the whole `pdf`, appended as an incremental update; signed at `clock.now()`.

    `document_id` (with `title`) stamps a PDF the system did not lay out itself (an officer's result file)
    with our document id in the signed update, so `verify` can match it to its public record.
    """
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    ident = ident or identity()
    moment = clock.now().replace(microsecond=0)
    signer = signers.SimpleSigner(signing_cert=ident.cert, signing_key=ident.key,
                                  cert_registry=SimpleCertificateStore.from_certs(ident.chain))
    meta = signers.PdfSignatureMetadata(field_name=FIELD_NAME, subfilter=fields.SigSeedSubFilter.PADES,
                                        md_algorithm="sha256", reason=reason, location=LOCATION)
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    if document_id:
        writer.set_info(generic.DictionaryObject({
            generic.NameObject(DOCUMENT_ID_KEY): generic.TextStringObject(document_id),
            generic.NameObject("/Subject"): generic.TextStringObject(document_id),
            generic.NameObject("/Title"): generic.TextStringObject(title or ""),
            generic.NameObject("/Creator"): generic.TextStringObject("Kabinet")}))
    out = _signer_at_class()(meta, signer, at=moment).sign_pdf(writer)
    data = out.getvalue()
    return SignedPdf(data=data, sha256=hashlib.sha256(data).hexdigest(), signed_by=ident.subject,
                     signed_at=clock.iso(moment))


def verify(pdf: bytes, *, ident: Identity | None = None) -> Verification:
    """Checks an uploaded file; never raises on what a user can upload (garbage, truncated, tampered)."""
    ident = ident or identity()
    digest = hashlib.sha256(pdf).hexdigest()
    try:
        from pyhanko.pdf_utils.reader import PdfFileReader

        reader = PdfFileReader(BytesIO(pdf), strict=False)
        signatures = list(reader.embedded_regular_signatures)
    except Exception:  # noqa: BLE001 - a malformed file fails in many ways inside the parser; all mean the same
        return Verification(valid=False, ours=False, intact=False, sha256=digest, reason=NOT_PDF)
    info = _info(reader)
    if not signatures:
        return Verification(valid=False, ours=False, intact=False, sha256=digest, reason=NO_SIGNATURE, **info)
    ours = [s for s in signatures if _safe(lambda s=s: ident.is_ours(s.signer_cert), False)]
    if not ours:
        last = signatures[-1]
        return Verification(valid=False, ours=False, intact=False, sha256=digest, reason=NOT_OURS,
                            signed_by=_safe(lambda: _describe(last.signer_cert), None),
                            signed_at=_safe(lambda: _iso(last.self_reported_timestamp), None), **info)
    return _check(ours[-1], ident, digest, info)  # the latest of ours: anything after it is a change


def _check(signature: Any, ident: Identity, digest: str, info: dict[str, str | None]) -> Verification:
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    signed_by = _describe(signature.signer_cert)  # ours, but maybe a certificate from before a rotation
    claimed = _safe(lambda: signature.self_reported_timestamp, None)
    signed_at = _iso(claimed)
    try:
        context = ValidationContext(trust_roots=list(ident.trust), other_certs=list(ident.chain),
                                    allow_fetching=False, revocation_mode="soft-fail", moment=claimed or clock.now())
        # The diff analysis only judges which later updates are allowed; we allow none (coverage below).
        status = validate_pdf_signature(signature, signer_validation_context=context, skip_diff=True)
    except Exception:  # noqa: BLE001 - a damaged signature or byte range fails in many ways inside pyhanko
        return Verification(valid=False, ours=True, intact=False, sha256=digest, signed_by=signed_by,
                            signed_at=signed_at, reason=CHANGED, **info)
    intact = bool(status.intact and status.valid)
    reason = None
    if not status.intact:
        reason = CHANGED
    elif not status.valid:
        reason = BROKEN
    elif not status.trusted:
        reason = UNTRUSTED
    elif status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        reason = APPENDED
    return Verification(valid=reason is None, ours=True, intact=intact, sha256=digest, signed_by=signed_by,
                        signed_at=signed_at, reason=reason, **info)


def _info(reader: Any) -> dict[str, str | None]:
    """Title and our document id from the document information dictionary, None when absent or unreadable."""
    def read(key: str) -> str | None:
        value = reader.trailer["/Info"].get_object()[key]
        return str(value) if isinstance(value, str) else None

    return {"document_id": _safe(lambda: read(DOCUMENT_ID_KEY), None), "title": _safe(lambda: read("/Title"), None)}


def _safe(read: Callable[[], Any], default: Any) -> Any:
    try:
        return read()
    except Exception:  # noqa: BLE001 - reading optional details of a possibly malformed file
        return default


def _certs(pems: list[str]) -> tuple[Any, ...]:
    from pyhanko.keys import load_certs_from_pemder_data

    return tuple(cert for pem in pems for cert in load_certs_from_pemder_data(pem.encode()))


def _describe(cert: Any) -> str:
    """'Служба подписи документов (local), Кабинет госуслуг': common name, then organisation."""
    subject = cert.subject.native
    parts = [subject.get("common_name"), subject.get("organization_name")]
    text = ", ".join(p if isinstance(p, str) else ", ".join(p) for p in parts if p)
    return text or cert.subject.human_friendly


def _iso(moment: datetime | None) -> str | None:
    return clock.iso(moment) if moment is not None else None


@cache
def _signer_at_class() -> type[Any]:
    """pyhanko's PdfSigner that signs at a given moment: its sign_pdf always takes the wall clock, and our time
    comes from chalicelib.core.clock (tests move it)."""
    from pyhanko.sign import signers

    class SignerAt(signers.PdfSigner):  # type: ignore[misc]
        def __init__(self, *args: Any, at: datetime, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.at = at

        def init_signing_session(self, *args: Any, **kwargs: Any) -> Any:
            session = super().init_signing_session(*args, **kwargs)
            session.system_time = self.at  # the /M entry and the CMS signing time
            return session

    return SignerAt
