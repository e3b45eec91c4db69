"""Reading and checking an X.509 certificate (AU-5, DC-5): format, dates, key usage, SNILS/INN, the chain.

`check` is what the certificate itself says (dates, key usage, subject against the profile); `check_chain` is
whether it chains to the trusted CA list (pyhanko-certvalidator). Binding needs both; sign-in and signing see the
chain again through the CMS validation (chalicelib/esign/cms.py).

Libraries are imported inside functions: `import app` must stay cheap for Lambda cold starts.
"""

from __future__ import annotations

import base64
import binascii
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.core.errors import Invalid

if TYPE_CHECKING:
    from chalicelib.adapters.esign_trust import TrustList

SNILS_OID = "1.2.643.100.3"
INN_OID = "1.2.643.3.131.1.1"
INNFL_OID = "1.2.643.100.111"

EXPIRED = "срок действия сертификата истёк"
UNREADABLE = "Не удалось прочитать сертификат X.509: нужен файл .cer/.crt (DER в base64 или PEM)"
UNTRUSTED = "Сертификат выдан не аккредитованным удостоверяющим центром: его нет в списке доверенных"


@dataclass(frozen=True)
class CertFacts:
    """What the rest of the system needs from a certificate, without library types."""

    serial: str
    sha256: str
    not_before: datetime
    not_after: datetime
    snils: str | None
    inn: str | None
    der: bytes
    owner: str = ""  # the subject's common name (or surname and given name)
    issuer: str = ""  # the CA's organisation (or common name)


def decode(text: str) -> bytes:
    """The API's `certificate` field: PEM text, or the DER file in base64 (a .cer as browsers read it)."""
    stripped = text.strip()
    if stripped.startswith("-----BEGIN"):
        return stripped.encode("ascii", "replace")
    try:
        return base64.b64decode("".join(stripped.split()), validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("CERT_UNREADABLE", UNREADABLE, {"certificate": UNREADABLE}) from None


def load(data: bytes) -> Any:
    """Parse DER or PEM into a `cryptography` certificate; anything else is a field error, never a 500."""
    from cryptography import x509

    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except Exception as exc:  # any parse failure is the caller's bad input, never a 500
        raise Invalid("CERT_UNREADABLE", UNREADABLE, {"certificate": UNREADABLE}) from exc


def _name_part(name: Any, *oids: str) -> str:
    for oid in oids:
        values = [a.value for a in name if a.oid.dotted_string == oid]
        if values:
            return " ".join(v if isinstance(v, str) else v.decode("utf-8", "replace") for v in values).strip()
    return ""


def facts(data: bytes) -> CertFacts:
    """Certificate facts, with SNILS and INN read from the subject attributes of Russian qualified certificates."""
    from cryptography.hazmat.primitives import hashes, serialization

    cert = load(data)
    attrs: dict[str, str] = {}
    for attr in cert.subject:
        value = attr.value if isinstance(attr.value, str) else attr.value.decode("ascii", "replace")
        attrs[attr.oid.dotted_string] = value.strip()
    der = cert.public_bytes(serialization.Encoding.DER)
    surname_given = " ".join(p for p in (_name_part(cert.subject, "2.5.4.4"), _name_part(cert.subject, "2.5.4.42"))
                             if p)
    return CertFacts(
        serial=format(cert.serial_number, "x"),
        sha256=cert.fingerprint(hashes.SHA256()).hex(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        snils=attrs.get(SNILS_OID),
        inn=attrs.get(INNFL_OID) or attrs.get(INN_OID),
        der=der,
        owner=_name_part(cert.subject, "2.5.4.3") or surname_given,
        issuer=_name_part(cert.issuer, "2.5.4.10", "2.5.4.3"),
    )


def check(data: bytes, now: datetime, snils: str | None, inn: str | None) -> CertFacts:
    """Dates, digital-signature key usage, and subject SNILS/INN equal to the profile's checked data."""
    from cryptography import x509

    f = facts(data)
    if now > f.not_after:
        raise Invalid("CERT_EXPIRED", EXPIRED, {"certificate": EXPIRED})
    if now < f.not_before:
        msg = "Сертификат ещё не действует"
        raise Invalid("CERT_NOT_YET_VALID", msg, {"certificate": msg})
    try:
        usage = load(data).extensions.get_extension_for_class(x509.KeyUsage).value
        signs = usage.digital_signature
    except x509.ExtensionNotFound:
        signs = False
    if not signs:
        msg = "Сертификат не предназначен для электронной подписи"
        raise Invalid("CERT_KEY_USAGE", msg, {"certificate": msg})
    if not f.snils or f.snils != snils:
        msg = "СНИЛС в сертификате не совпадает с данными профиля"
        raise Invalid("CERT_SUBJECT_MISMATCH", msg, {"certificate": msg})
    if inn and f.inn and f.inn != inn:
        msg = "ИНН в сертификате не совпадает с данными профиля"
        raise Invalid("CERT_SUBJECT_MISMATCH", msg, {"certificate": msg})
    return f


def validation_context(trust: TrustList, now: datetime) -> Any:
    """pyhanko-certvalidator's context: our roots only (never the system's), nothing fetched from the network.

    Revocation (CRL/OCSP) is "soft-fail" with fetching off: the local cloud has no CA to ask; docs/esign.md.
    pyhanko logs every failed path with the certificate's subject (a name and a SNILS) and a traceback: personal
    data must not reach the logs, and the refusal is ours to report, so its loggers keep quiet below CRITICAL.
    """
    from asn1crypto import x509 as asn1_x509
    from pyhanko_certvalidator import ValidationContext

    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.CRITICAL)

    return ValidationContext(trust_roots=[asn1_x509.Certificate.load(r) for r in trust.roots],
                             other_certs=[asn1_x509.Certificate.load(c) for c in trust.intermediates],
                             allow_fetching=False, revocation_mode="soft-fail", moment=now)


def check_chain(der: bytes, trust: TrustList, now: datetime) -> None:
    """The certificate chains to a root of the trusted CA list, each link valid now and allowed to sign."""
    import asyncio

    from asn1crypto import x509 as asn1_x509
    from pyhanko_certvalidator import CertificateValidator

    if not trust.roots:
        raise Invalid("CERT_UNTRUSTED", UNTRUSTED, {"certificate": UNTRUSTED})
    try:
        validator = CertificateValidator(asn1_x509.Certificate.load(der),
                                         validation_context=validation_context(trust, now))
        asyncio.run(validator.async_validate_usage({"digital_signature"}))
    except Exception:  # noqa: BLE001 - path building, path validation and parsing fail in many ways; all mean this
        raise Invalid("CERT_UNTRUSTED", UNTRUSTED, {"certificate": UNTRUSTED}) from None


def bindable(data: bytes, now: datetime, snils: str | None, inn: str | None, trust: TrustList) -> CertFacts:
    """Everything a certificate must pass to be bound to an account (AU-5, DC-5)."""
    f = check(data, now, snils, inn)
    check_chain(f.der, trust, now)
    return f
