"""Registration, sign-in and tokens (ID-1, ID-2, ID-4, ID-5, AU-1, AU-2)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.identity import auth, registration, sessions
from chalicelib.identity.models import (
    CodeIn,
    CompleteIn,
    LoginIn,
    RefreshIn,
    RegistrationIn,
    RegistrationOut,
    TokensOut,
)

bp = Blueprint(__name__)


@endpoint(bp, "POST", "/auth/registrations", summary="Start registration: a code goes to the phone or e-mail",
          body=RegistrationIn, response=RegistrationOut, status=201, auth=False, tag="auth")
def start_registration(call: Call, body: RegistrationIn) -> dict[str, Any]:
    return registration.start(body, call.origin)


@endpoint(bp, "POST", "/auth/registrations/{registration_id}/resend", summary="Send a new code (after 60 s)",
          response=RegistrationOut, status=202, auth=False, tag="auth")
def resend_code(call: Call, registration_id: str) -> dict[str, Any]:
    return registration.resend(registration_id, call.origin)


@endpoint(bp, "POST", "/auth/registrations/{registration_id}/confirm", summary="Confirm the contact with the code",
          body=CodeIn, auth=False, tag="auth")
def confirm_registration(call: Call, body: CodeIn, registration_id: str) -> dict[str, Any]:
    return registration.confirm(registration_id, body.code, call.origin)


@endpoint(bp, "POST", "/auth/registrations/{registration_id}/complete", summary="Set the password, create the account",
          body=CompleteIn, response=TokensOut, status=201, auth=False, tag="auth")
def complete_registration(call: Call, body: CompleteIn, registration_id: str) -> dict[str, Any]:
    return registration.complete(registration_id, body, call.origin)


@endpoint(bp, "POST", "/auth/login", summary="Sign in with phone, e-mail or SNILS and password",
          body=LoginIn, response=TokensOut, auth=False, tag="auth")
def login(call: Call, body: LoginIn) -> dict[str, Any]:
    return auth.login(body.login, body.password, call.origin)


@endpoint(bp, "POST", "/auth/token/refresh", summary="Rotate the refresh token, get a new pair",
          body=RefreshIn, response=TokensOut, auth=False, tag="auth")
def refresh(call: Call, body: RefreshIn) -> dict[str, Any]:
    return sessions.refresh(body.refresh_token, call.origin)


@endpoint(bp, "POST", "/auth/logout", summary="End the current session", status=204, tag="auth")
def logout(call: Call) -> None:
    assert call.principal is not None
    sessions.logout(call.principal.user_id, call.principal.session_id, call.origin)
