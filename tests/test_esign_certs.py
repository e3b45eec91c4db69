"""AU-5 certificate checks: DER or PEM, dates, key usage, subject SNILS/INN against the profile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chalicelib.core.errors import Invalid
from chalicelib.esign import certs

NOW = datetime(2026, 12, 1, tzinfo=UTC)
SNILS = "11223344595"
INN = "500100732259"


def make(
    snils: str = SNILS, inn: str = INN, days: int = 365, signing: bool = True, start: datetime = NOW
) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, "Иванов Иван Иванович"),
        x509.NameAttribute(x509.ObjectIdentifier("1.2.643.100.3"), snils),
        x509.NameAttribute(x509.ObjectIdentifier("1.2.643.3.131.1.1"), inn),
    ])
    usage = x509.KeyUsage(signing, signing, False, False, False, not signing, False, False, False)
    return (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - timedelta(days=1)).not_valid_after(start + timedelta(days=days))
        .add_extension(usage, critical=True).sign(key, hashes.SHA256())
    )


def test_der_and_pem_give_the_same_subject_snils_and_inn() -> None:
    cert = make()
    for enc in (serialization.Encoding.DER, serialization.Encoding.PEM):
        f = certs.check(cert.public_bytes(enc), NOW, SNILS, INN)
        assert (f.snils, f.inn) == (SNILS, INN)


def test_expired_certificate_says_so_in_russian() -> None:
    data = make(days=1).public_bytes(serialization.Encoding.DER)
    with pytest.raises(Invalid) as e:
        certs.check(data, NOW + timedelta(days=2), SNILS, INN)
    assert e.value.message == "срок действия сертификата истёк"


def test_not_a_certificate_is_a_field_error() -> None:
    with pytest.raises(Invalid) as e:
        certs.check(b"not a cert", NOW, SNILS, INN)
    assert "certificate" in e.value.fields


def test_snils_of_someone_else_is_refused() -> None:
    data = make(snils="11223344596").public_bytes(serialization.Encoding.DER)
    with pytest.raises(Invalid):
        certs.check(data, NOW, SNILS, INN)


def test_inn_mismatch_is_refused() -> None:
    data = make(inn="500100732260").public_bytes(serialization.Encoding.DER)
    with pytest.raises(Invalid):
        certs.check(data, NOW, SNILS, INN)


def test_certificate_without_digital_signature_usage_is_refused() -> None:
    data = make(signing=False).public_bytes(serialization.Encoding.DER)
    with pytest.raises(Invalid):
        certs.check(data, NOW, SNILS, INN)
