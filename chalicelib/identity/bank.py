"""Confirmation through a partner bank (ID-7): OAuth2 authorization code with PKCE, then a signed assertion
compared field by field with the checked data.

`start` stores the flow (state, PKCE verifier, nonce) for 10 minutes, bound to the person, keyed by the state's
hash, and answers the bank's authorize URL. `finish` takes the code and state the bank redirected back with: the
state must be the caller's and is claimed once (a conditional write) before the bank is called, so a code cannot
be replayed and another person cannot finish someone's flow. The data transfer is recorded as a consent (ID-9) in
the transaction that writes the outcome — the tier raise, or the mismatch.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from typing import Any
from urllib.parse import urlencode

from chalicelib.adapters import bank as banks
from chalicelib.core import clock
from chalicelib.core.codes import hash_token, new_token
from chalicelib.core.config import settings
from chalicelib.core.errors import Conflict, Gone, NotFound, Unavailable, Unprocessable
from chalicelib.identity import confirmation, consents, tiers
from chalicelib.store import journal, keys, table
from chalicelib.store.table import ConditionFailed, Tx

log = logging.getLogger("kabinet.identity")
FLOW_TTL = 600
SCOPE = "openid fio inn birthdate"
# Our field -> (the assertion's claim, what the person is told when they differ).
FIELDS: dict[str, tuple[str, str]] = {
    "last_name": ("family_name", "Фамилия не совпадает с данными банка"),
    "first_name": ("given_name", "Имя не совпадает с данными банка"),
    "middle_name": ("middle_name", "Отчество не совпадает с данными банка"),
    "inn": ("inn", "ИНН не совпадает с данными банка"),
    "birth_date": ("birthdate", "Дата рождения не совпадает с данными банка"),
}
NAMES = ("last_name", "first_name", "middle_name")


def redirect_uri() -> str:
    """Where the bank sends the person back: the web client's page, which finishes the flow (every stage)."""
    return f"{settings().public_url}/identity/bank/callback"


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def start(user_id: str, bank_id: str, ip: str | None) -> dict[str, Any]:
    user = confirmation.confirmable(user_id)
    bank = banks.get(bank_id)
    if bank is None:
        raise NotFound("BANK_NOT_FOUND", "Банк не найден среди банков-партнёров", {"bank": "Неизвестный банк"})
    state, verifier, nonce = new_token(), secrets.token_urlsafe(48), new_token()
    now = clock.epoch()
    pk, sk = keys.bank_flow(hash_token(state))
    tx = Tx().put_new({"pk": pk, "sk": sk, "user_id": user["user_id"], "bank": bank.id, "verifier": verifier,
                       "nonce": nonce, "redirect_uri": redirect_uri(), "expires_at": now + FLOW_TTL,
                       "ttl": now + FLOW_TTL + 3600})
    journal.audit(tx, keys.user_pk(user_id), "identity.bank_started", user_id, ip, bank=bank.id)
    tx.commit()
    query = {"response_type": "code", "client_id": banks.CLIENT_ID, "redirect_uri": redirect_uri(), "scope": SCOPE,
             "state": state, "nonce": nonce, "code_challenge": _challenge(verifier), "code_challenge_method": "S256"}
    return {"bank": bank.id, "bank_name": bank.name, "authorize_url": f"{bank.authorize_url}?{urlencode(query)}",
            "state": state, "expires_in": FLOW_TTL}


def _claim(state: str, user_id: str) -> dict[str, Any]:
    """The caller's flow, claimed for this one finish: unknown and other people's flows are not found."""
    key = keys.bank_flow(hash_token(state))
    flow = table.get(key)
    if not flow or flow["user_id"] != user_id:
        raise NotFound("BANK_FLOW_NOT_FOUND", "Запрос подтверждения через банк не найден: начните заново")
    if flow["expires_at"] <= clock.epoch():
        raise Gone("BANK_FLOW_EXPIRED", "Время на вход в банк истекло (10 минут): начните заново")
    try:
        Tx().update(key, "SET used_at = :now", cond="attribute_not_exists(used_at) AND user_id = :u",
                    values={":now": clock.epoch(), ":u": user_id}).commit()
    except ConditionFailed:
        raise Conflict("BANK_FLOW_USED", "Этот ответ банка уже обработан: начните заново") from None
    return flow


def _same(ours: Any, theirs: Any, name: bool) -> bool:
    def norm(value: Any) -> str:
        text = " ".join(str(value or "").split())
        return text.casefold().replace("ё", "е") if name else text
    return norm(ours) == norm(theirs)


def mismatches(user: dict[str, Any], claims: dict[str, Any]) -> dict[str, str]:
    """Each field of the checked data the bank's data disagrees with (names ignore case and ё/е)."""
    return {field: message for field, (claim, message) in FIELDS.items()
            if not _same(user.get(field), claims.get(claim), field in NAMES)}


def finish(user_id: str, code: str, state: str, ip: str | None) -> dict[str, Any]:
    flow = _claim(state, user_id)
    user = confirmation.confirmable(user_id)
    bank = banks.get(flow["bank"])
    flow_key = keys.bank_flow(hash_token(state))
    subject = keys.user_pk(user_id)

    def refused(reason: str, error: Exception) -> Exception:
        tx = Tx().delete(flow_key)
        journal.audit(tx, subject, "identity.bank_refused", user_id, ip, bank=flow["bank"], reason=reason)
        tx.commit()
        return error

    if bank is None:
        raise refused("bank_gone", Unavailable("BANK_UNAVAILABLE", "Банк сейчас недоступен: попробуйте позже"))
    try:
        token = bank.exchange(code, flow["verifier"], flow["redirect_uri"])
    except banks.BankUnavailable:
        raise refused("unavailable", Unavailable(
            "BANK_UNAVAILABLE", "Банк не ответил. Попробуйте позже или выберите другой способ")) from None
    except banks.CodeRefused:
        raise refused("code_refused", Unprocessable(
            "BANK_CODE_REFUSED", "Банк не принял ответ: начните подтверждение заново")) from None
    try:
        claims = banks.verify_assertion(bank, token, flow["nonce"])
    except banks.AssertionInvalid:
        log.warning("assertion of bank %s refused", bank.id)
        raise refused("signature", Unprocessable(
            "BANK_ASSERTION_INVALID", "Данные от банка не прошли проверку подписи. Попробуйте позже или выберите "
                                      "другой способ")) from None
    differ = mismatches(user, claims)
    tx = Tx().delete(flow_key)
    consents.record(tx, user_id, "bank_confirmation", ip=ip, recipient=bank.name)
    if differ:
        journal.audit(tx, subject, "identity.bank_mismatch", user_id, ip, bank=bank.id, fields=sorted(differ))
        tx.commit()
        raise Unprocessable("BANK_DATA_MISMATCH", "Данные банка не совпадают с вашими личными данными: исправьте "
                                                  "их в банке или в личном кабинете", differ)
    tiers.raise_tier(tx, user, "confirmed", channel="bank", actor=user_id, ip=ip, bank=bank.id)
    try:
        tx.commit()
    except ConditionFailed as exc:
        if exc.tag != "tier_changed":
            raise
        late = Tx().delete(flow_key)  # another channel won the race: the transfer still happened
        consents.record(late, user_id, "bank_confirmation", ip=ip, recipient=bank.name)
        journal.audit(late, subject, "identity.bank_late", user_id, ip, bank=bank.id)
        late.commit()
        raise confirmation.already_confirmed() from None
    return {"tier": "confirmed", "channel": "bank", "bank": bank.id, "bank_name": bank.name}
