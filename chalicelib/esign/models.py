"""Request and response bodies of the qualified e-signature routes (AU-5, DC-5)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from chalicelib.applications.models import Number
from chalicelib.core.models import Id, Moment, Out, Strict, Tier, pattern
from chalicelib.identity.models import Channel, Code

CHALLENGE_PREFIX = "kabinet-login:"
CHALLENGE_PATTERN = r"^kabinet-login:[A-Za-z0-9_-]{43}$"
BASE64_PATTERN = r"^[A-Za-z0-9+/]+={0,2}$"
MAX_CERTIFICATE = 20_000  # characters: a PEM certificate is 1–3 KB, long extension lists stay well under this
MAX_SIGNATURE = 30_000  # base64 of a CMS with the signer's certificate (and perhaps its chain)

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256, 64 шестнадцатеричные цифры")]


class CertificateIn(Strict):
    certificate: str = Field(min_length=1, max_length=MAX_CERTIFICATE,
                             description="Сертификат X.509: PEM (-----BEGIN CERTIFICATE-----) или DER в base64")


class CertificateFacts(Out):
    serial: str = Field(description="Серийный номер, шестнадцатеричный")
    owner: str
    issuer: str = Field(description="Удостоверяющий центр")
    not_before: Moment
    not_after: Moment
    sha256: Sha256


class CertificateOut(CertificateFacts):
    id: Id
    bound_at: Moment
    expired: bool


class BindStartedOut(Out):
    certificate: CertificateFacts
    channel: Channel = Field(description="Куда отправлен код подтверждения привязки")
    expires_in: int
    resend_after: int


class BindCodeIn(Strict):
    code: Code


class BoundOut(Out):
    certificate: CertificateOut
    tier: Tier
    tier_raised: bool = Field(description="Привязка подтвердила личность: уровень стал «подтверждённая»")


class CertificatesOut(Out):
    items: list[CertificateOut]


class ChallengeOut(Out):
    challenge: str = Field(pattern=CHALLENGE_PATTERN,
                           description="Текст для подписи (UTF-8, как есть): отсоединённая подпись CMS над ним")
    expires_in: int


class EsignLoginIn(Strict):
    challenge: str = pattern(CHALLENGE_PATTERN, "Запрос на вход: текст, полученный от /auth/esign/challenge")
    signature: str = pattern(BASE64_PATTERN, "Подпись: CMS (DER) в base64", max_length=MAX_SIGNATURE)


class SignatureIn(Strict):
    signature: str = pattern(BASE64_PATTERN, "Подпись: CMS (DER) в base64", max_length=MAX_SIGNATURE)


class SignatureContentOut(Out):
    request_id: Id
    number: Number | None
    content: str = Field(description="Что подписывать: эти байты в UTF-8 (канонический JSON заявления)")
    content_base64: str
    sha256: Sha256
    media_type: Literal["application/json"]


class RequestSignedOut(Out):
    request_id: Id
    signed_at: Moment
    content_sha256: Sha256
    certificate: CertificateOut
