"""Account security of the signed-in person (AU-3, AU-4, AU-8..AU-11)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.http import Call, Content, endpoint
from chalicelib.core.errors import not_found
from chalicelib.identity import contact_change, mfa, passwords, profile, security, sessions
from chalicelib.identity.models import (
    AllowlistIn,
    AllowlistOut,
    CodeIn,
    CodeSentOut,
    ContactChangedOut,
    EmailIn,
    FactorEnabledOut,
    HistoryFilter,
    NotMeOut,
    PasswordChangedOut,
    PasswordChangeIn,
    PasswordCodeIn,
    PhoneIn,
    SecurityOut,
    SessionsEndedOut,
    SessionsOut,
    TotpStartOut,
)

bp = Blueprint(__name__)


def _session(call: Call) -> str:
    assert call.principal is not None
    return call.principal.session_id


@endpoint(bp, "GET", "/me/security", summary="Factors, backup codes left, password age, IP allowlist",
          response=SecurityOut, tag="security")
def summary(call: Call) -> dict[str, Any]:
    return security.summary(call.user_id)


@endpoint(bp, "POST", "/me/mfa/totp", summary="Start authenticator-app enrolment: secret, otpauth URI, QR (SVG)",
          response=TotpStartOut, status=201, tag="security")
def totp_start(call: Call) -> dict[str, Any]:
    return mfa.start_totp(call.user_id, call.origin)


@endpoint(bp, "POST", "/me/mfa/totp/confirm", summary="Enable the app with a current code; backup codes once",
          body=CodeIn, response=FactorEnabledOut, tag="security")
def totp_confirm(call: Call, body: CodeIn) -> dict[str, Any]:
    return mfa.confirm_totp(call.user_id, body.code, call.origin)


@endpoint(bp, "DELETE", "/me/mfa/totp", summary="Turn the app off: password and a current code",
          body=PasswordCodeIn, status=204, tag="security")
def totp_disable(call: Call, body: PasswordCodeIn) -> None:
    mfa.disable_totp(call.user_id, body.password, body.code, call.origin)


@endpoint(bp, "POST", "/me/mfa/sms/code", summary="Send a code to the confirmed phone to enable SMS as a factor",
          response=CodeSentOut, status=202, limited=True, tag="security")
def sms_code(call: Call) -> dict[str, Any]:
    return mfa.send_sms_code(call.user_id, call.origin)


@endpoint(bp, "POST", "/me/mfa/sms", summary="Enable SMS codes as the second factor", body=CodeIn,
          response=FactorEnabledOut, limited=True, tag="security")
def sms_enable(call: Call, body: CodeIn) -> dict[str, Any]:
    return mfa.enable_sms(call.user_id, body.code, call.origin)


@endpoint(bp, "POST", "/me/password/code", summary="Send the confirmation code for a password change",
          response=CodeSentOut, status=202, limited=True, tag="security")
def password_code(call: Call) -> dict[str, Any]:
    return passwords.send_change_code(call.user_id, call.origin)


@endpoint(bp, "POST", "/me/password", summary="Change the password; every other session ends",
          body=PasswordChangeIn, response=PasswordChangedOut, limited=True, tag="security")
def password_change(call: Call, body: PasswordChangeIn) -> dict[str, Any]:
    return passwords.change(call.user_id, _session(call), body.current_password, body.new_password,
                            body.new_password_repeat, body.code, call.origin)


@endpoint(bp, "POST", "/me/security/ip-allowlist/code", summary="Send the code that confirms an IP allowlist change",
          response=CodeSentOut, status=202, limited=True, tag="security")
def allowlist_code(call: Call) -> dict[str, Any]:
    return security.send_allowlist_code(call.user_id, call.origin)


@endpoint(bp, "PUT", "/me/security/ip-allowlist", summary="Allow sign-in only from these addresses (empty: off)",
          body=AllowlistIn, response=AllowlistOut, limited=True, tag="security")
def allowlist_set(call: Call, body: AllowlistIn) -> dict[str, Any]:
    return security.set_allowlist(call.user_id, body.cidrs, body.code, call.origin)


@endpoint(bp, "POST", "/me/contacts/phone", summary="Send a code to a new phone number",
          body=PhoneIn, response=CodeSentOut, status=202, limited=True, tag="security")
def phone_change(call: Call, body: PhoneIn) -> dict[str, Any]:
    return contact_change.request(call.user_id, "phone", body.phone, call.origin)


@endpoint(bp, "POST", "/me/contacts/email", summary="Send a code to a new e-mail address",
          body=EmailIn, response=CodeSentOut, status=202, limited=True, tag="security")
def email_change(call: Call, body: EmailIn) -> dict[str, Any]:
    return contact_change.request(call.user_id, "email", body.email, call.origin)


@endpoint(bp, "POST", "/me/contacts/{kind}/confirm", summary="Switch to the new contact (kind: phone or email)",
          body=CodeIn, response=ContactChangedOut, limited=True, tag="security")
def contact_confirm(call: Call, body: CodeIn, kind: str) -> dict[str, Any]:
    if kind not in contact_change.KINDS:
        raise not_found("Тип контакта")
    return contact_change.confirm(call.user_id, kind, body.code, call.origin)


@endpoint(bp, "GET", "/me/sessions", summary="Active sessions with device, IP and times",
          response=SessionsOut, tag="security")
def sessions_list(call: Call) -> dict[str, Any]:
    return {"items": sessions.list_sessions(call.user_id, _session(call))}


@endpoint(bp, "DELETE", "/me/sessions/{session_id}", summary="End one session", status=204, tag="security")
def session_end(call: Call, session_id: str) -> None:
    sessions.end_session(call.user_id, session_id, call.origin)


@endpoint(bp, "DELETE", "/me/sessions", summary="End every session but this one",
          response=SessionsEndedOut, tag="security")
def sessions_end_others(call: Call) -> dict[str, Any]:
    return {"sessions_ended": sessions.end_other_sessions(call.user_id, _session(call), call.origin)}


@endpoint(bp, "GET", "/me/login-history.csv", summary="Login history as CSV (UTF-8)",
          query=HistoryFilter, response=Content("text/csv", description="CSV в UTF-8, до 1000 строк"),
          checked={"from": "не позже даты «по»"}, tag="security")
def history_csv(call: Call) -> Response:
    return Response(body=profile.login_history_csv(call.user_id, call.query), status_code=200,
                    headers={"Content-Type": "text/csv; charset=utf-8",
                             "Content-Disposition": 'attachment; filename="login-history.csv"'})


@endpoint(bp, "POST", "/me/login-history/{event_id}/not-me", summary="This sign-in was not me: end all sessions, "
          "require a new password", response=NotMeOut, tag="security")
def not_me(call: Call, event_id: str) -> dict[str, Any]:
    return security.not_me(call.user_id, event_id, call.origin)


@endpoint(bp, "POST", "/me/login-history/{event_id}/not-me/block", summary="This sign-in was not me: end all "
          "sessions, require a new password and block the account until it is unblocked (AU-12)",
          response=NotMeOut, tag="security")
def not_me_block(call: Call, event_id: str) -> dict[str, Any]:
    return security.not_me(call.user_id, event_id, call.origin, block=True)
