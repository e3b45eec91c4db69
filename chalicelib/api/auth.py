"""Registration, sign-in and tokens (ID-1, ID-2, ID-4, ID-5, AU-1, AU-2)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.core import observability
from chalicelib.core.errors import DomainError
from chalicelib.identity import auth, recovery, registration, sessions
from chalicelib.identity.models import (
    ChallengeIn,
    CodeIn,
    CodeSentOut,
    CompleteIn,
    ExpiredPasswordIn,
    LoginIn,
    MfaLoginIn,
    RecoveryConfirmedOut,
    RecoveryIn,
    RecoveryStartedOut,
    RefreshIn,
    RegistrationConfirmedOut,
    RegistrationIn,
    RegistrationOut,
    ResetIn,
    ResetOut,
    ResetTokenIn,
    SecondStepOut,
    SignInOut,
    TokensOut,
)

bp = Blueprint(__name__)


def _counted(step: Any, *args: Any) -> dict[str, Any]:
    """A sign-in step, counted: tokens issued, or refused (a step that asks for more counts neither way)."""
    try:
        result = step(*args)
    except DomainError:
        observability.count(observability.SIGN_IN_FAILED)
        raise
    if "access_token" in result:
        observability.count(observability.SIGN_IN_SUCCEEDED)
    return result


@endpoint(bp, "POST", "/auth/registrations", summary="Start registration: a code goes to the phone or e-mail",
          body=RegistrationIn, response=RegistrationOut, status=201, auth=False, tag="auth")
def start_registration(call: Call, body: RegistrationIn) -> dict[str, Any]:
    return registration.start(body, call.origin)


@endpoint(bp, "POST", "/auth/registrations/{registration_id}/resend", summary="Send a new code (after 60 s)",
          response=RegistrationOut, status=202, auth=False, tag="auth")
def resend_code(call: Call, registration_id: str) -> dict[str, Any]:
    return registration.resend(registration_id, call.origin)


@endpoint(bp, "POST", "/auth/registrations/{registration_id}/confirm", summary="Confirm the contact with the code",
          body=CodeIn, response=RegistrationConfirmedOut, auth=False, tag="auth")
def confirm_registration(call: Call, body: CodeIn, registration_id: str) -> dict[str, Any]:
    return registration.confirm(registration_id, body.code, call.origin)


@endpoint(bp, "POST", "/auth/registrations/{registration_id}/complete", summary="Set the password, create the account",
          body=CompleteIn, response=TokensOut, status=201, auth=False, tag="auth")
def complete_registration(call: Call, body: CompleteIn, registration_id: str) -> dict[str, Any]:
    return registration.complete(registration_id, body, call.origin)


@endpoint(bp, "POST", "/auth/login", summary="Sign in with phone, e-mail or SNILS and password; may ask for a "
                                             "second factor or a password change",
          body=LoginIn, response=SignInOut, auth=False, tag="auth")
def login(call: Call, body: LoginIn) -> dict[str, Any]:
    return _counted(auth.login, body.login, body.password, call.origin)


@endpoint(bp, "POST", "/auth/token/refresh", summary="Rotate the refresh token, get a new pair",
          body=RefreshIn, response=TokensOut, auth=False, tag="auth")
def refresh(call: Call, body: RefreshIn) -> dict[str, Any]:
    return sessions.refresh(body.refresh_token, call.origin)


@endpoint(bp, "POST", "/auth/logout", summary="End the current session", status=204, tag="auth")
def logout(call: Call) -> None:
    assert call.principal is not None
    sessions.logout(call.principal.user_id, call.principal.session_id, call.origin)


@endpoint(bp, "POST", "/auth/login/mfa", summary="Second step of sign-in: a TOTP, SMS or backup code",
          body=MfaLoginIn, response=SecondStepOut, auth=False, tag="auth")
def login_mfa(call: Call, body: MfaLoginIn) -> dict[str, Any]:
    return _counted(auth.login_mfa, body.challenge_id, body.method, body.code, call.origin)


@endpoint(bp, "POST", "/auth/login/mfa/sms", summary="Send the SMS code for a sign-in challenge (60 s cooldown)",
          body=ChallengeIn, response=CodeSentOut, status=202, auth=False, tag="auth")
def login_mfa_sms(call: Call, body: ChallengeIn) -> dict[str, Any]:
    return auth.send_login_sms(body.challenge_id, call.origin)


@endpoint(bp, "POST", "/auth/password/expired", summary="Replace an expired password (the change token's only use)",
          body=ExpiredPasswordIn, response=TokensOut, auth=False, tag="auth")
def change_expired(call: Call, body: ExpiredPasswordIn) -> dict[str, Any]:
    return auth.change_expired(body.change_token, body.new_password, body.new_password_repeat, call.origin)


@endpoint(bp, "POST", "/auth/recovery", summary="Start access recovery: a code goes to the account's contact",
          body=RecoveryIn, response=RecoveryStartedOut, status=202, auth=False, tag="auth",
          checked={"login": "телефон в любой записи, e-mail или СНИЛС с верной контрольной суммой"})
def start_recovery(call: Call, body: RecoveryIn) -> dict[str, Any]:
    return recovery.start(body.login, call.origin)


@endpoint(bp, "POST", "/auth/recovery/{recovery_id}/confirm", summary="Confirm recovery with the code",
          body=CodeIn, response=RecoveryConfirmedOut, auth=False, tag="auth")
def confirm_recovery(call: Call, body: CodeIn, recovery_id: str) -> dict[str, Any]:
    return recovery.confirm(recovery_id, body.code, call.origin)


@endpoint(bp, "POST", "/auth/recovery/{recovery_id}/sms", summary="SMS code as the second factor of a reset",
          body=ResetTokenIn, response=CodeSentOut, status=202, auth=False, tag="auth")
def recovery_sms(call: Call, body: ResetTokenIn, recovery_id: str) -> dict[str, Any]:
    return recovery.send_sms(recovery_id, body.reset_token, call.origin)


@endpoint(bp, "POST", "/auth/recovery/{recovery_id}/password", summary="Set a new password; ends every session",
          body=ResetIn, response=ResetOut, auth=False, tag="auth")
def reset_password(call: Call, body: ResetIn, recovery_id: str) -> dict[str, Any]:
    return recovery.reset(recovery_id, body.reset_token, body.new_password, body.new_password_repeat,
                          body.mfa_method, body.mfa_code, call.origin)
