"""Reading and checking an uploaded X.509 certificate (AU-5): format, dates, key usage, SNILS/INN.

Libraries are imported inside functions: `import app` must stay cheap for Lambda cold starts.
The chain to the trusted CA list is not checked here yet (see docs/esign.md, "not done").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.core.errors import Invalid

SNILS_OID = "1.2.643.100.3"
INN_OID = "1.2.643.3.131.1.1"
INNFL_OID = "1.2.643.100.111"

EXPIRED = "срок действия сертификата истёк"


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


def load(data: bytes):  # type: ignore[no-untyped-def]
    """Parse DER or PEM into a `cryptography` certificate; anything else is a field error, never a 500."""
    from cryptography import x509

    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except Exception as exc:  # any parse failure is the caller's bad input, never a 500
        msg = "Не удалось прочитать сертификат X.509"
        raise Invalid("VALIDATION", "Некорректный запрос", {"certificate": msg}) from exc


def facts(data: bytes) -> CertFacts:
    """Certificate facts, with SNILS and INN read from the subject attributes of Russian qualified certificates."""
    from cryptography.hazmat.primitives import hashes, serialization

    cert = load(data)
    attrs: dict[str, str] = {}
    for attr in cert.subject:
        value = attr.value if isinstance(attr.value, str) else attr.value.decode("ascii", "replace")
        attrs[attr.oid.dotted_string] = value.strip()
    der = cert.public_bytes(serialization.Encoding.DER)
    return CertFacts(
        serial=format(cert.serial_number, "x"),
        sha256=cert.fingerprint(hashes.SHA256()).hex(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        snils=attrs.get(SNILS_OID),
        inn=attrs.get(INNFL_OID) or attrs.get(INN_OID),
        der=der,
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
