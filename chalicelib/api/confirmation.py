"""The confirmed tier's channels (ID-7): partner bank, registered letter, and the МФЦ operator's desk."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.identity import bank, confirmation, letter, mfc
from chalicelib.identity.confirmation_models import (
    BankFinishIn,
    BankStartIn,
    BankStartOut,
    ChannelsOut,
    ConfirmedOut,
    LetterCodeIn,
    LetterOut,
    OperatorConfirmIn,
    PersonOut,
    SnilsQuery,
)
from chalicelib.identity.users import load_user

bp = Blueprint(__name__)


@endpoint(bp, "GET", "/me/identity/channels", summary="Ways to confirm identity, and whether each can be used now",
          response=ChannelsOut, role="citizen", tag="identity")
def channels(call: Call) -> dict[str, Any]:
    user = load_user(call.user_id)
    return {"tier": user.get("tier") or "simplified", "channels": confirmation.channels(user)}


@endpoint(bp, "POST", "/me/identity/bank", summary="Start confirming through a partner bank (OAuth2, PKCE)",
          body=BankStartIn, response=BankStartOut, status=201, role="citizen", tag="identity")
def bank_start(call: Call, body: BankStartIn) -> dict[str, Any]:
    return bank.start(call.user_id, body.bank, call.origin.ip)


@endpoint(bp, "POST", "/me/identity/bank/finish", summary="Finish with the code and state the bank redirected back",
          body=BankFinishIn, response=ConfirmedOut, role="citizen", tag="identity")
def bank_finish(call: Call, body: BankFinishIn) -> dict[str, Any]:
    return bank.finish(call.user_id, body.code, body.state, call.origin.ip)


@endpoint(bp, "POST", "/me/identity/letter", summary="Send a registered letter with a code to the registration address",
          response=LetterOut, status=202, role="citizen", tag="identity")
def letter_send(call: Call) -> dict[str, Any]:
    return letter.send(call.user_id, call.origin.ip)


@endpoint(bp, "POST", "/me/identity/letter/confirm", summary="Confirm with the code from the letter",
          body=LetterCodeIn, response=ConfirmedOut, role="citizen", tag="identity")
def letter_confirm(call: Call, body: LetterCodeIn) -> dict[str, Any]:
    return letter.confirm(call.user_id, body.code, call.origin.ip)


@endpoint(bp, "GET", "/operator/people", summary="Find a person by SNILS (journaled)", query=SnilsQuery,
          response=PersonOut, role="operator", tag="operator")
def find_person(call: Call) -> dict[str, Any]:
    return mfc.find(call.user_id, call.query["snils"], call.origin.ip)


@endpoint(bp, "POST", "/operator/people/{user_id}/confirm", summary="Confirm identity after checking the passport",
          body=OperatorConfirmIn, response=PersonOut, role="operator", tag="operator")
def confirm_person(call: Call, body: OperatorConfirmIn, user_id: str) -> dict[str, Any]:
    return mfc.confirm(call.user_id, user_id, body.passport_series, body.passport_number, call.origin.ip)
