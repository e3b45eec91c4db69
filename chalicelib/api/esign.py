"""Qualified e-signature (AU-5, DC-5): binding certificates, sign-in without a password, signing applications."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.core import observability
from chalicelib.core.errors import DomainError
from chalicelib.esign import binding, signin, signing
from chalicelib.esign.models import (
    BindCodeIn,
    BindStartedOut,
    BoundOut,
    CertificateIn,
    CertificatesOut,
    ChallengeOut,
    EsignLoginIn,
    RequestSignedOut,
    SignatureContentOut,
    SignatureIn,
)
from chalicelib.identity.models import TokensOut

bp = Blueprint(__name__)

CERTIFICATE_CHECKED = {"certificate": "сертификат X.509 (PEM или DER в base64): цепочка до аккредитованного "
                                      "удостоверяющего центра, срок действия, назначение «электронная подпись», "
                                      "СНИЛС и ИНН владельца совпадают с профилем"}
SIGNATURE_CHECKED = {"signature": "отсоединённая подпись CMS (DER в base64) над содержимым signature-content "
                                  "сертификатом, привязанным к учётной записи"}


@endpoint(bp, "GET", "/me/esign/certificates", summary="My bound e-signature certificates",
          response=CertificatesOut, role="citizen", tag="esign")
def certificates(call: Call) -> dict[str, Any]:
    return binding.list_certificates(call.user_id)


@endpoint(bp, "POST", "/me/esign/certificates", summary="Upload a certificate to bind: a code confirms the binding",
          body=CertificateIn, response=BindStartedOut, status=202, role="citizen", tag="esign",
          checked=CERTIFICATE_CHECKED)
def bind_start(call: Call, body: CertificateIn) -> dict[str, Any]:
    return binding.start(call.user_id, body.certificate, call.origin.ip)


@endpoint(bp, "POST", "/me/esign/certificates/confirm", summary="Confirm the binding with the code; a standard "
                                                               "account becomes confirmed (channel esign)",
          body=BindCodeIn, response=BoundOut, role="citizen", tag="esign")
def bind_confirm(call: Call, body: BindCodeIn) -> dict[str, Any]:
    return binding.confirm(call.user_id, body.code, call.origin.ip)


@endpoint(bp, "DELETE", "/me/esign/certificates/{certificate_id}", summary="Unbind a certificate (lost key)",
          status=204, role="citizen", tag="esign")
def unbind(call: Call, certificate_id: str) -> None:
    binding.unbind(call.user_id, certificate_id, call.origin.ip)


@endpoint(bp, "POST", "/auth/esign/challenge", summary="A text to sign for sign-in with an e-signature (5 minutes)",
          response=ChallengeOut, status=201, auth=False, tag="auth")
def challenge(call: Call) -> dict[str, Any]:
    return signin.challenge(call.origin)


@endpoint(bp, "POST", "/auth/esign/login", summary="Sign in with a detached CMS signature over the challenge",
          body=EsignLoginIn, response=TokensOut, auth=False, tag="auth")
def login(call: Call, body: EsignLoginIn) -> dict[str, Any]:
    try:
        result = signin.login(body.challenge, body.signature, call.origin)
    except DomainError:
        observability.count(observability.SIGN_IN_FAILED)
        raise
    observability.count(observability.SIGN_IN_SUCCEEDED)
    return result


@endpoint(bp, "GET", "/requests/{request_id}/signature-content", summary="The application's canonical content to "
                                                                         "sign (exact bytes)",
          response=SignatureContentOut, role="citizen", tag="requests")
def signature_content(call: Call, request_id: str) -> dict[str, Any]:
    return signing.content(call.user_id, request_id)


@endpoint(bp, "POST", "/requests/{request_id}/signature", summary="Sign the application: a detached CMS over its "
                                                                 "canonical content, kept in its journal",
          body=SignatureIn, response=RequestSignedOut, status=201, role="citizen", tag="requests",
          checked=SIGNATURE_CHECKED)
def sign(call: Call, body: SignatureIn, request_id: str) -> dict[str, Any]:
    return signing.sign(call.user_id, request_id, body.signature, call.origin.ip)
