"""Detached CMS (PKCS#7) signatures: a sign-in challenge or an application's canonical content (AU-5, DC-5).

The signature is what a signing tool produces (CryptoPro, `openssl cms -sign -binary`, cryptography's
PKCS7SignatureBuilder with DetachedSignature): SignedData without the content, one signer, and the signer's
certificate inside. asn1crypto reads it; pyhanko's `async_validate_detached_cms` checks the digest of the content
we hold against the signed attributes, the signature with the certificate's key, and the certificate's path to
the trusted CA list (pyhanko-certvalidator). Nothing here parses ASN.1 or does cryptography by hand.

`verify` tells three things apart, in this order: the signature does not hold («подпись неверна»), the
certificate has expired («срок действия сертификата истёк»), and whether the certificate chains to the trusted
list (the caller decides what an untrusted one means, after it looked the certificate up).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.esign import certs

if TYPE_CHECKING:
    from chalicelib.adapters.esign_trust import TrustList

BAD_SIGNATURE = "подпись неверна"
NOT_FOUND = "сертификат не найден"
EXPIRED = certs.EXPIRED
NOT_YET_VALID = "Сертификат ещё не действует"


class Refused(Exception):
    """Why a signature does not count: `kind` is signature | no_certificate | expired | not_yet_valid."""

    def __init__(self, kind: str, message: str, signer: certs.CertFacts | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.message = message
        self.signer = signer


@dataclass(frozen=True)
class Signed:
    signer: certs.CertFacts
    trusted: bool  # the signer's certificate chains to the trusted CA list and may sign (now)


def decode(text: str) -> bytes:
    """The API's `signature` field: the DER of the CMS in base64 (line breaks allowed)."""
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise Refused("signature", BAD_SIGNATURE) from None


def _signed_data(signature: bytes) -> Any:
    from asn1crypto import cms

    info = cms.ContentInfo.load(signature, strict=True)
    if info["content_type"].native != "signed_data":
        raise ValueError("not SignedData")
    signed_data = info["content"]
    if len(signed_data["signer_infos"]) != 1:
        raise ValueError("exactly one signer")
    return signed_data


def verify(content: bytes, signature: bytes, trust: TrustList, now: datetime) -> Signed:
    """Check a detached CMS signature over `content`; raise Refused when it does not count."""
    import asyncio

    from pyhanko.sign.validation import KeyUsageConstraints, async_validate_detached_cms

    try:
        signed_data = _signed_data(signature)
        embedded = signed_data["encap_content_info"]["content"].native
        if not signed_data["certificates"].native:
            raise Refused("no_certificate", NOT_FOUND)
    except Refused:
        raise
    except Exception:  # noqa: BLE001 - whatever a person sends: asn1crypto fails in many ways on garbage
        raise Refused("signature", BAD_SIGNATURE) from None
    if embedded is not None and bytes(embedded) != content:
        raise Refused("signature", BAD_SIGNATURE)  # it carries other content than the one to sign
    try:
        status = asyncio.run(async_validate_detached_cms(
            content, signed_data, signer_validation_context=certs.validation_context(trust, now),
            key_usage_settings=KeyUsageConstraints(key_usage={"digital_signature"})))
    except Exception:  # noqa: BLE001 - a broken structure or an unknown algorithm: the signature does not hold
        raise Refused("signature", BAD_SIGNATURE) from None
    if not (status.intact and status.valid):
        raise Refused("signature", BAD_SIGNATURE)
    signer = certs.facts(status.signing_cert.dump())
    if now > signer.not_after:
        raise Refused("expired", EXPIRED, signer)
    if now < signer.not_before:
        raise Refused("not_yet_valid", NOT_YET_VALID, signer)
    return Signed(signer=signer, trusted=bool(status.trusted) and bool(trust.roots))
