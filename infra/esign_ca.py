"""The local cloud's «Тестовый аккредитованный удостоверяющий центр»: a CA for trying qualified e-signatures.

The bootstrap makes it once per local cloud (ECDSA P-256, 10 years): its key and certificate in the local-only
secret `kabinet-local-esign-test-ca`, its certificate in the trusted CA list (`kabinet-local-esign-trust`, read
by chalicelib/adapters/esign_trust.py). `python -m infra.admin esign-issue` issues a person's certificate with it
(SNILS and INN in the subject, as Russian qualified certificates carry them), `esign-sign` signs with that key
(a detached CMS, as a signing tool would). Never part of a deployment: on AWS the trusted list holds the real
accredited CAs and nobody here has their keys.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.adapters.signer import self_signed_ca
from chalicelib.core import clock

CA_SECRET = "esign-test-ca"  # kabinet-<stage>-esign-test-ca, local only (not in the template)
CA_ORGANIZATION = "Тестовый аккредитованный удостоверяющий центр"
CA_COMMON_NAME = "Тестовый аккредитованный УЦ (local)"
CA_YEARS = 10
SNILS_OID = "1.2.643.100.3"
INNFL_OID = "1.2.643.100.111"
SKEW = timedelta(hours=1)  # a certificate starts a little in the past: clocks differ


@dataclass(frozen=True)
class Issued:
    cert_pem: str
    key_pem: str  # PKCS#8, encrypted with the PIN when one was given


def new_ca(common_name: str = CA_COMMON_NAME, organization: str = CA_ORGANIZATION) -> str:
    """A fresh CA as the local-only secret's value: {"key": PKCS#8 PEM, "cert": PEM}."""
    from cryptography.hazmat.primitives import serialization

    key, cert = self_signed_ca(organization, common_name, CA_YEARS, clock.now().replace(microsecond=0) - SKEW)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return json.dumps({"key": key_pem, "cert": cert.public_bytes(serialization.Encoding.PEM).decode()})


def trust_value(ca_secret: str) -> str:
    """The trusted CA list naming this CA only: the value of `kabinet-local-esign-trust`."""
    return json.dumps({"roots": [json.loads(ca_secret)["cert"]], "intermediates": []})


def issue(ca_secret: str, *, last_name: str, first_name: str, middle_name: str | None, snils: str,
          inn: str | None, days: int = 365, start: datetime | None = None, signing: bool = True,
          pin: str | None = None) -> Issued:
    """A person's certificate from the CA in `ca_secret`: subject with full name, SNILS and INN; key usage
    digitalSignature + nonRepudiation (contentCommitment) when `signing`, keyEncipherment alone otherwise."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    doc = json.loads(ca_secret)
    ca_key = serialization.load_pem_private_key(doc["key"].encode(), password=None)
    ca_cert = x509.load_pem_x509_certificate(doc["cert"].encode())
    key = ec.generate_private_key(ec.SECP256R1())
    full = " ".join(p for p in (last_name, first_name, middle_name) if p)
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "RU"), x509.NameAttribute(NameOID.SURNAME, last_name),
             x509.NameAttribute(NameOID.GIVEN_NAME, " ".join(p for p in (first_name, middle_name) if p)),
             x509.NameAttribute(NameOID.COMMON_NAME, full[:64]),
             x509.NameAttribute(x509.ObjectIdentifier(SNILS_OID), snils)]
    if inn:
        attrs.append(x509.NameAttribute(x509.ObjectIdentifier(INNFL_OID), inn))
    begin = (start or clock.now()).replace(microsecond=0) - SKEW
    usage = x509.KeyUsage(digital_signature=signing, content_commitment=signing, key_encipherment=not signing,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False)
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (x509.CertificateBuilder().subject_name(x509.Name(attrs)).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(begin).not_valid_after(begin + SKEW + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
            .sign(ca_key, hashes.SHA256()))  # type: ignore[arg-type]
    encryption: Any = (serialization.BestAvailableEncryption(pin.encode()) if pin
                       else serialization.NoEncryption())
    return Issued(cert_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
                  key_pem=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            encryption).decode())


class WrongPin(Exception):
    """The key file does not open with this PIN: the signing tool's refusal, never the server's."""


def sign(content: bytes, cert_pem: str, key_pem: str, pin: str | None = None) -> str:
    """A detached CMS (PKCS#7) signature over `content`, with the signer's certificate inside, in base64."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    try:
        key = serialization.load_pem_private_key(key_pem.encode(), password=pin.encode() if pin else None)
    except (ValueError, TypeError) as exc:
        raise WrongPin(str(exc)) from None
    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    der = (pkcs7.PKCS7SignatureBuilder().set_data(content).add_signer(cert, key, hashes.SHA256())  # type: ignore[arg-type]
           .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]))
    return base64.b64encode(der).decode()


def ca_secret_id(stage: str) -> str:
    from infra.resources import name

    return name(stage, CA_SECRET)


def ensure_local_ca(sm: Any, stage: str) -> str:
    """The local CA's secret value, made on first use (the secret is created here, outside the template)."""
    secret_id = ca_secret_id(stage)
    try:
        return str(sm.get_secret_value(SecretId=secret_id)["SecretString"])
    except sm.exceptions.ResourceNotFoundException:
        pass
    value = new_ca()
    try:
        sm.create_secret(Name=secret_id, Description="Local test CA for qualified e-signatures (never deployed)",
                         SecretString=value)
    except sm.exceptions.ResourceExistsException:
        sm.put_secret_value(SecretId=secret_id, SecretString=value)
    return value


class NoLocalCa(Exception):
    """The stage boto3 points at has no test CA: it is not a local cloud."""


def load_ca(stage: str = "local") -> str:
    """The local CA's secret value from the stage boto3 points at (the admin commands and tests)."""
    from chalicelib.core.aws import client

    sm = client("secretsmanager")
    try:
        return str(sm.get_secret_value(SecretId=ca_secret_id(stage))["SecretString"])
    except sm.exceptions.ResourceNotFoundException:
        raise NoLocalCa(ca_secret_id(stage)) from None
