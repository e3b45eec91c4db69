"""Passkeys (AU-4): enrolment and removal in the security settings, the second factor of a sign-in challenge,
and the passwordless sign-in. Mobile clients use these; the web pages call the same domain functions."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.auth import _counted
from chalicelib.api.http import Call, endpoint
from chalicelib.identity import auth, passkeys
from chalicelib.identity.models import ChallengeIn, SecondStepOut
from chalicelib.identity.passkey_models import (
    PASSKEY_ID,
    PasskeyOptionsOut,
    PasskeyOut,
    PasskeyRegisterIn,
    PasskeyRequestOptionsOut,
    PasskeySecondFactorIn,
    PasskeySignInIn,
    PasskeysOut,
)

bp = Blueprint(__name__)


@endpoint(bp, "GET", "/me/passkeys", summary="The account's passkeys and hardware keys", response=PasskeysOut,
          tag="security")
def list_passkeys(call: Call) -> dict[str, Any]:
    return {"items": passkeys.listing(call.user_id)}


@endpoint(bp, "POST", "/me/passkeys/options", summary="Start adding a passkey: options for "
          "navigator.credentials.create()", response=PasskeyOptionsOut, limited=True, tag="security")
def registration_options(call: Call) -> dict[str, Any]:
    return passkeys.registration_options(call.user_id)


@endpoint(bp, "POST", "/me/passkeys", summary="Add the passkey the authenticator created; the owner is told",
          body=PasskeyRegisterIn, response=PasskeyOut, status=201, limited=True, tag="security")
def register(call: Call, body: PasskeyRegisterIn) -> dict[str, Any]:
    return passkeys.register(call.user_id, body.challenge_id, body.credential.model_dump(exclude_none=True),
                             body.name, call.origin)


@endpoint(bp, "DELETE", "/me/passkeys/{passkey_id}", summary="Remove a passkey; the owner is told", status=204,
          tag="security", path_schemas={"passkey_id": {"type": "string", "pattern": PASSKEY_ID}})
def remove(call: Call, passkey_id: str) -> None:
    passkeys.remove(call.user_id, passkey_id, call.origin)


@endpoint(bp, "POST", "/auth/login/mfa/passkey/options", summary="A passkey as the second factor: options for "
          "navigator.credentials.get() for this sign-in challenge", body=ChallengeIn,
          response=PasskeyRequestOptionsOut, auth=False, tag="auth")
def second_factor_options(call: Call, body: ChallengeIn) -> dict[str, Any]:
    return auth.passkey_options(body.challenge_id)


@endpoint(bp, "POST", "/auth/login/mfa/passkey", summary="Second step of sign-in with a passkey assertion",
          body=PasskeySecondFactorIn, response=SecondStepOut, auth=False, tag="auth")
def second_factor(call: Call, body: PasskeySecondFactorIn) -> dict[str, Any]:
    return _counted(auth.login_passkey, body.challenge_id, body.credential.model_dump(exclude_none=True),
                    call.origin)


@endpoint(bp, "POST", "/auth/passkey/options", summary="Passwordless sign-in: options for "
          "navigator.credentials.get() (discoverable credentials, user verification)",
          response=PasskeyOptionsOut, auth=False, tag="auth")
def sign_in_options(call: Call) -> dict[str, Any]:
    return passkeys.sign_in_options()


@endpoint(bp, "POST", "/auth/passkey", summary="Passwordless sign-in with a passkey assertion",
          body=PasskeySignInIn, response=SecondStepOut, auth=False, tag="auth")
def sign_in(call: Call, body: PasskeySignInIn) -> dict[str, Any]:
    return _counted(passkeys.sign_in, body.challenge_id, body.credential.model_dump(exclude_none=True), call.origin)
