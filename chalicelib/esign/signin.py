"""Sign-in with a qualified e-signature, without a password (AU-5).

1. `challenge`: a random text (`kabinet-login:<43 characters>`), 5 minutes, stored only as its SHA-256 (an item
   `ESIGNCH#<sha256>` with its expiry); the request writes nothing else and is charged to the per-IP limit.
2. The person's signing tool signs the text with the private key — a detached CMS — after the person types the
   key's PIN. A wrong PIN never reaches us: the tool refuses to sign (docs/esign.md).
3. `login`: the challenge is consumed first (a conditional delete: it works once, whatever the outcome and however
   many requests race), then the signature is checked against the certificate inside it, then the certificate is
   looked up among bound ones (`ESIGNCERT#<sha256>`: the very certificate, byte for byte). Refusals, in that order:
   «подпись неверна», «срок действия сертификата истёк», «сертификат не найден». Only the holder of a valid
   signature learns whether its certificate is bound, so nothing tells who has an account.
   Success opens a session through `sessions.open_session` (method "esign", a login-history row), in one
   transaction with the audit entry, the new-device notice and the known devices.

A qualified signature is two factors in itself (the key on its token and its PIN), so no second factor follows.
The password lockout (three wrong passwords) guards the password and does not apply here; a blocked account and
the IP allowlist do.
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters import esign_trust
from chalicelib.core import clock
from chalicelib.core.codes import hash_token, new_token
from chalicelib.core.errors import Forbidden, Unauthorized
from chalicelib.core.origin import Origin
from chalicelib.esign import binding, cms
from chalicelib.esign.models import CHALLENGE_PREFIX
from chalicelib.events import catalog as events
from chalicelib.identity import auth, blocking, ratelimit, sessions
from chalicelib.identity.users import contacts
from chalicelib.store import journal, keys, table
from chalicelib.store.table import Change, ConditionFailed, Tx

CHALLENGE_TTL = 300
METHOD = "esign"
UNTRUSTED = "Сертификат выдан удостоверяющим центром, которого нет в списке доверенных"


def challenge(origin: Origin) -> dict[str, Any]:
    text = CHALLENGE_PREFIX + new_token()
    now = clock.epoch()
    pk, sk = keys.esign_challenge(hash_token(text))
    tx = Tx().put({"pk": pk, "sk": sk, "expires_at": now + CHALLENGE_TTL, "ttl": now + CHALLENGE_TTL + 60})
    ratelimit.commit(tx, origin.ip)
    return {"challenge": text, "expires_in": CHALLENGE_TTL}


def _consume(text: str, origin: Origin) -> None:
    tx = Tx().delete(keys.esign_challenge(hash_token(text)), cond="attribute_exists(pk) AND expires_at > :now",
                     values={":now": clock.epoch()}, tag="challenge")
    try:
        ratelimit.commit(tx, origin.ip)
    except ConditionFailed:
        raise Unauthorized("CHALLENGE_INVALID", "Запрос на вход устарел или уже использован: получите новый "
                                                "и подпишите его") from None


def login(text: str, signature: str, origin: Origin) -> dict[str, Any]:
    _consume(text, origin)
    try:
        signed = cms.verify(text.encode(), cms.decode(signature), esign_trust.trust_list(), clock.now())
    except cms.Refused as refused:
        if refused.kind == "expired" and refused.signer is not None:
            _record_failure(refused.signer.sha256, origin, "expired")
            raise Unauthorized("CERT_EXPIRED", cms.EXPIRED) from None
        if refused.kind == "not_yet_valid":
            raise Unauthorized("CERT_NOT_YET_VALID", refused.message) from None
        if refused.kind == "no_certificate":
            raise Unauthorized("CERT_NOT_FOUND", cms.NOT_FOUND) from None
        raise Unauthorized("SIGNATURE_INVALID", cms.BAD_SIGNATURE) from None
    alias = binding.bound_to(signed.signer.sha256)
    user = table.get(keys.user(alias["user_id"])) if alias else None
    if user is None:
        raise Unauthorized("CERT_NOT_FOUND", cms.NOT_FOUND)
    if not signed.trusted:  # bound once, but its CA has left the trusted list since (or the chain broke)
        _refused(user, origin, "failure", "login.esign_untrusted")
        raise Unauthorized("CERT_UNTRUSTED", UNTRUSTED)
    if not auth.ip_allowed(user, origin.ip):
        _refused(user, origin, "ip_not_allowed", events.LOGIN_REFUSED_IP.name, notify=events.LOGIN_REFUSED_IP)
        raise Forbidden("IP_NOT_ALLOWED", "Вход с этого IP-адреса запрещён настройками безопасности")
    if blocking.is_blocked(user):
        _refused(user, origin, "blocked", "login.refused_blocked")
        raise blocking.refusal(user)
    return _open(user, alias["certificate_id"], signed, origin)


def _open(user: dict[str, Any], certificate_id: str, signed: cms.Signed, origin: Origin) -> dict[str, Any]:
    user_id = user["user_id"]
    tx = Tx()
    fp = sessions.fingerprint(origin)
    known = user.get("known_devices") or []
    Change().set("known_devices", [fp, *known][:sessions.KNOWN_DEVICES]).require(
        "attribute_exists({pk})").apply(tx, keys.user(user_id), tag="user")
    result = sessions.open_session(tx, user, origin, METHOD)
    journal.audit(tx, keys.user_pk(user_id), events.LOGIN_SUCCEEDED.name, user_id, origin.ip, method=METHOD,
                  certificate_id=certificate_id, serial=signed.signer.serial)
    journal.emit(tx, events.LOGIN_SUCCEEDED, keys.user_pk(user_id), {"user_id": user_id, "ip": origin.ip})
    if fp not in known:
        journal.emit(tx, events.LOGIN_NEW_DEVICE, keys.user_pk(user_id), {
            **contacts(user), "ip": origin.ip, "device": fp.split("|", 1)[1].replace("|", ", "),
            "at": clock.iso(clock.now())})
    tx.commit()  # the IP was charged when the challenge was consumed
    return result


def _refused(user: dict[str, Any], origin: Origin, result: str, action: str,
             notify: events.EventType | None = None) -> None:
    """A refusal after the signature held: the account's holder did it, so it goes into their history."""
    tx = Tx()
    sessions.record_login(tx, user["user_id"], origin, METHOD, result)
    journal.audit(tx, keys.user_pk(user["user_id"]), action, user["user_id"], origin.ip, method=METHOD)
    if notify:
        journal.emit(tx, notify, keys.user_pk(user["user_id"]), {**contacts(user), "ip": origin.ip,
                                                                 "at": clock.iso(clock.now())})
    tx.commit()


def _record_failure(cert_sha256: str, origin: Origin, reason: str) -> None:
    """A valid signature by an expired certificate: if it is bound, its owner sees the attempt (AU-9)."""
    alias = binding.bound_to(cert_sha256)
    user = table.get(keys.user(alias["user_id"])) if alias else None
    if user is not None:
        _refused(user, origin, "failure", f"login.esign_{reason}")
