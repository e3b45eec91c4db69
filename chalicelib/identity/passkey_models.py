"""Request and response models of the passkey routes (AU-4): the WebAuthn JSON shapes (L3 `toJSON()`), checked
before py_webauthn sees them; the same models validate what the web pages post."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from chalicelib.core.models import Id, Moment, Out, Strict, pattern, whole_number

B64URL = r"^[A-Za-z0-9_-]+={0,2}$"
PASSKEY_ID = r"^[0-9a-f]{32}$"
Transport = Literal["usb", "nfc", "ble", "smart-card", "internal", "cable", "hybrid"]


def _b64(limit: int) -> Any:
    return Annotated[str, pattern(B64URL, "Ожидается base64url", max_length=limit)]


NAME_PATTERN = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"  # printable, not only blanks


def _name(value: str) -> str:
    return " ".join(value.split())


PasskeyName = Annotated[str, pattern(NAME_PATTERN, "Укажите название ключа без управляющих символов", min_length=1,
                                     max_length=64, description="Как ключ назван в списке"), AfterValidator(_name)]
Extensions = dict[str, bool | dict[str, bool]]  # what the browser says of extensions (credProps); not checked
CredentialId = _b64(1400)  # credential ids are at most 1023 bytes
ClientData = _b64(4096)
Blob = _b64(32768)  # an attestation object with its certificate chain
Short = _b64(4096)
Signature = _b64(2048)
UserHandle = _b64(128)  # at most 64 bytes


class AttestationResponseIn(Strict):
    clientDataJSON: ClientData
    attestationObject: Blob
    transports: list[Transport] = Field(default=[], max_length=8)
    authenticatorData: Blob | None = None
    publicKey: Short | None = None
    publicKeyAlgorithm: whole_number(ge=-65536, le=65535) | None = None  # type: ignore[valid-type]


class RegistrationCredentialIn(Strict):
    """What `navigator.credentials.create()` returned, as `PublicKeyCredential.toJSON()` spells it."""

    id: CredentialId
    rawId: CredentialId
    type: Literal["public-key"]
    response: AttestationResponseIn
    authenticatorAttachment: Literal["platform", "cross-platform"] | None = None
    clientExtensionResults: Extensions | None = None


class AssertionResponseIn(Strict):
    clientDataJSON: ClientData
    authenticatorData: Short
    signature: Signature
    userHandle: UserHandle | None = None


class AuthenticationCredentialIn(Strict):
    """What `navigator.credentials.get()` returned, as `PublicKeyCredential.toJSON()` spells it."""

    id: CredentialId
    rawId: CredentialId
    type: Literal["public-key"]
    response: AssertionResponseIn
    authenticatorAttachment: Literal["platform", "cross-platform"] | None = None
    clientExtensionResults: Extensions | None = None


class PasskeyRegisterIn(Strict):
    challenge_id: Id
    name: PasskeyName
    credential: RegistrationCredentialIn


class PasskeySecondFactorIn(Strict):
    challenge_id: str = Field(min_length=1, max_length=2048, description="Из ответа POST /auth/login")
    credential: AuthenticationCredentialIn


class PasskeySignInIn(Strict):
    challenge_id: Id
    credential: AuthenticationCredentialIn


class PasskeyOptionsOut(Out):
    challenge_id: Id
    options: dict[str, Any] = Field(description="PublicKeyCredentialCreationOptionsJSON или "
                                                "PublicKeyCredentialRequestOptionsJSON (WebAuthn L3)")
    expires_in: int


class PasskeyRequestOptionsOut(Out):
    options: dict[str, Any] = Field(description="PublicKeyCredentialRequestOptionsJSON (WebAuthn L3)")
    expires_in: int


class PasskeyOut(Out):
    id: Annotated[str, Field(pattern=PASSKEY_ID)]
    name: str
    created_at: Moment
    last_used_at: Moment | None
    transports: list[Transport]


class PasskeysOut(Out):
    items: list[PasskeyOut]
