"""Passkeys and hardware keys (AU-4 «аппаратный ключ»): WebAuthn enrolment, the second factor, the passwordless
sign-in. py_webauthn does every CBOR, COSE and signature step (imported inside functions: cold start).

Each ceremony's challenge is an item with a TTL (under the account when it is known) that the finishing
transaction deletes on condition that it still exists, so a challenge answers once; a refused answer deletes it
too. A credential is stored under the account (public key, sign count, transports, name) with an alias item
credential → account for the passwordless sign-in. The sign count must grow (unless the authenticator keeps
none: 0), and it is written on condition that it is still the count that was checked.

Relying party (docs/web-passkeys.md): the host of `settings().public_url`; browsers refuse an IP address as RP
ID, so a local cloud at http://127.0.0.1:<port> uses `localhost` (the same server, opened as localhost).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import ipaddress
import json
import urllib.parse
from typing import Any

from chalicelib.core import clock
from chalicelib.core.config import settings
from chalicelib.core.errors import Conflict, DomainError, Forbidden, Gone, Invalid, Unauthorized, not_found
from chalicelib.core.ids import new_id
from chalicelib.core.origin import Origin
from chalicelib.events import catalog as events
from chalicelib.identity import auth, blocking, ratelimit
from chalicelib.identity.users import full_name, load_user
from chalicelib.store import journal, keys, table
from chalicelib.store.keys import Key
from chalicelib.store.table import ConditionFailed, Tx

RP_NAME = "Госуслуги"
CHALLENGE_TTL = 300
TIMEOUT_MS = 120_000
MAX_PASSKEYS = 10
TRANSPORTS = ("usb", "nfc", "ble", "smart-card", "internal", "cable", "hybrid")


def relying_party() -> tuple[str, str]:
    """(RP ID, expected origin) from the public address; an IP address becomes `localhost` (browsers refuse IPs)."""
    url = urllib.parse.urlsplit(settings().public_url)
    host = url.hostname or "localhost"
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(host)
        host = "localhost"
    return host, f"{url.scheme}://{host}" + (f":{url.port}" if url.port else "")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def passkey_id(credential_id: bytes) -> str:
    """The short, fixed-length name of a credential in keys and URLs (credential ids run to 1023 bytes)."""
    return hashlib.sha256(credential_id).hexdigest()[:32]


def _refused() -> DomainError:
    return Unauthorized("PASSKEY_INVALID", "Ключ доступа не подтвердил вход, попробуйте снова")


def _options_json(options: Any) -> dict[str, Any]:
    from webauthn import options_to_json

    return json.loads(options_to_json(options))


def _store_challenge(key: Key, challenge: bytes, purpose: str) -> None:
    now = clock.epoch()
    table.put({"pk": key[0], "sk": key[1], "purpose": purpose, "challenge": _b64(challenge),
               "expires_at": now + CHALLENGE_TTL, "ttl": now + CHALLENGE_TTL + 3600})


def _take_challenge(key: Key, purpose: str) -> bytes:
    item = table.get(key)
    if not item or item.get("purpose") != purpose:
        raise Unauthorized("PASSKEY_CHALLENGE_INVALID", "Запрос ключа доступа устарел или уже использован, "
                                                        "начните снова")
    if item["expires_at"] <= clock.epoch():
        raise Gone("PASSKEY_CHALLENGE_EXPIRED", "Время на подтверждение ключом доступа истекло, начните снова")
    return _unb64(item["challenge"])


def _drop_challenge(key: Key) -> None:
    """A refused answer spends its challenge: one try per ceremony."""
    table.delete(key)


def _consume(tx: Tx, key: Key) -> Tx:
    return tx.delete(key, cond="attribute_exists(pk)", tag="passkey")


def items(user_id: str) -> list[dict[str, Any]]:
    return table.query(keys.user_pk(user_id), keys.PASSKEY_PREFIX, limit=MAX_PASSKEYS + 1, newest_first=False,
                       consistent=True).items


def listing(user_id: str) -> list[dict[str, Any]]:
    """The account's passkeys as the security settings show them, oldest first."""
    return [{"id": i["passkey_id"], "name": i["name"], "created_at": i["created_at"],
             "last_used_at": i.get("last_used_at"), "transports": i.get("transports") or []}
            for i in sorted(items(user_id), key=lambda i: i["created_at"])]


# -- enrolment ---------------------------------------------------------------------------------------------

def registration_options(user_id: str) -> dict[str, Any]:
    from webauthn import generate_registration_options
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    user = load_user(user_id)
    existing = items(user_id)
    if len(existing) >= MAX_PASSKEYS:
        raise Conflict("PASSKEY_LIMIT", f"Можно добавить не более {MAX_PASSKEYS} ключей доступа")
    rp_id, _ = relying_party()
    options = generate_registration_options(
        rp_id=rp_id, rp_name=RP_NAME, user_id=user_id.encode(), user_name=user.get("phone") or user.get("email")
        or user_id, user_display_name=full_name(user), timeout=TIMEOUT_MS,
        exclude_credentials=[PublicKeyCredentialDescriptor(id=_unb64(i["credential_id"])) for i in existing],
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.PREFERRED))
    challenge_id = new_id()
    _store_challenge(keys.passkey_challenge(challenge_id, user_id), options.challenge, "register")
    return {"challenge_id": challenge_id, "options": _options_json(options), "expires_in": CHALLENGE_TTL}


def register(user_id: str, challenge_id: str, credential: dict[str, Any], name: str, origin: Origin
             ) -> dict[str, Any]:
    """Verify the authenticator's attestation and keep the credential; the owner is told."""
    from webauthn import verify_registration_response

    load_user(user_id)
    key = keys.passkey_challenge(challenge_id, user_id)
    challenge = _take_challenge(key, "register")
    rp_id, expected_origin = relying_party()
    try:
        verified = verify_registration_response(credential=credential, expected_challenge=challenge,
                                                expected_rp_id=rp_id, expected_origin=expected_origin)
    except Exception:  # noqa: BLE001 - untrusted bytes: any parse or crypto failure is a refusal
        _drop_challenge(key)
        raise Invalid("PASSKEY_INVALID", "Ключ доступа не удалось проверить, попробуйте снова",
                      {"credential": "Ответ ключа доступа не прошёл проверку"}) from None
    pid = passkey_id(verified.credential_id)
    now = clock.iso(clock.now())
    transports = [t for t in (credential.get("response") or {}).get("transports") or [] if t in TRANSPORTS]
    item_key, alias_key = keys.passkey(user_id, pid), keys.passkey_alias(pid)
    tx = _consume(Tx(), key)
    tx.put_new({"pk": item_key[0], "sk": item_key[1], "passkey_id": pid, "credential_id": _b64(verified.credential_id),
                "public_key": _b64(verified.credential_public_key), "sign_count": verified.sign_count,
                "transports": transports, "name": name, "created_at": now, "aaguid": verified.aaguid,
                "backed_up": verified.credential_backed_up}, tag="exists")
    tx.put_new({"pk": alias_key[0], "sk": alias_key[1], "user_id": user_id, "passkey_id": pid}, tag="exists")
    tx.update(keys.user(user_id), "ADD passkey_ids :p", cond="attribute_exists(pk)", values={":p": {pid}})
    journal.audit(tx, keys.user_pk(user_id), "passkey.added", user_id, origin.ip, passkey_id=pid, name=name)
    journal.emit(tx, events.PASSKEY_CHANGED, keys.user_pk(user_id),
                 {"user_id": user_id, "name": name, "added": True, "ip": origin.ip})
    try:
        tx.commit()
    except ConditionFailed as exc:
        if exc.tag == "exists":
            raise Conflict("PASSKEY_EXISTS", "Этот ключ доступа уже добавлен") from None
        raise Unauthorized("PASSKEY_CHALLENGE_INVALID", "Запрос ключа доступа уже использован, начните снова") from None
    return {"id": pid, "name": name, "created_at": now, "last_used_at": None, "transports": transports}


def remove(user_id: str, pid: str, origin: Origin) -> None:
    item = table.get(keys.passkey(user_id, pid)) if len(pid) <= 64 else None
    if not item:
        raise not_found("Ключ доступа")
    tx = Tx().delete(keys.passkey(user_id, pid), cond="attribute_exists(pk)", tag="gone")
    tx.delete(keys.passkey_alias(pid))
    tx.update(keys.user(user_id), "DELETE passkey_ids :p", values={":p": {pid}})
    journal.audit(tx, keys.user_pk(user_id), "passkey.removed", user_id, origin.ip, passkey_id=pid, name=item["name"])
    journal.emit(tx, events.PASSKEY_CHANGED, keys.user_pk(user_id),
                 {"user_id": user_id, "name": item["name"], "added": False, "ip": origin.ip})
    try:
        tx.commit()
    except ConditionFailed:
        raise not_found("Ключ доступа") from None


# -- authentication ----------------------------------------------------------------------------------------

def authentication_options(key: Key, user_id: str | None) -> dict[str, Any]:
    """Options for `navigator.credentials.get`: the account's credentials when it is known (second factor);
    none for the passwordless sign-in, where the authenticator offers its discoverable ones."""
    from webauthn import generate_authentication_options
    from webauthn.helpers.structs import (
        AuthenticatorTransport,
        PublicKeyCredentialDescriptor,
        UserVerificationRequirement,
    )

    allow = [PublicKeyCredentialDescriptor(id=_unb64(i["credential_id"]),
                                           transports=[AuthenticatorTransport(t) for t in i.get("transports") or []])
             for i in items(user_id)] if user_id else []
    rp_id, _ = relying_party()
    options = generate_authentication_options(
        rp_id=rp_id, timeout=TIMEOUT_MS, allow_credentials=allow,
        user_verification=UserVerificationRequirement.PREFERRED if user_id else UserVerificationRequirement.REQUIRED)
    _store_challenge(key, options.challenge, "authenticate")
    return {"options": _options_json(options), "expires_in": CHALLENGE_TTL}


def sign_in_options() -> dict[str, Any]:
    challenge_id = new_id()
    return {"challenge_id": challenge_id, **authentication_options(keys.passkey_challenge(challenge_id), None)}


def _credential_pid(credential: dict[str, Any]) -> str:
    raw = credential.get("rawId") or credential.get("id")
    try:
        return passkey_id(_unb64(raw)) if isinstance(raw, str) and len(raw) <= 1400 else ""
    except ValueError:
        return ""


def check_assertion(key: Key, credential: dict[str, Any], user_id: str | None, user_verification: bool,
                    origin: Origin) -> tuple[Tx, str]:
    """Verify an assertion against the challenge at `key` and a credential of `user_id` (or, when None, of
    whoever the credential belongs to). Returns the transaction that spends the challenge and moves the sign
    count on its conditions (the caller adds the session and commits), and the account's id.
    Refused: PASSKEY_INVALID."""
    from webauthn import verify_authentication_response

    challenge = _take_challenge(key, "authenticate")
    pid = _credential_pid(credential)
    owner = user_id
    if owner is None and pid:
        alias = table.get(keys.passkey_alias(pid))
        owner = alias["user_id"] if alias else None
    item = table.get(keys.passkey(owner, pid)) if owner and pid else None
    handle = (credential.get("response") or {}).get("userHandle")
    rp_id, expected_origin = relying_party()
    try:
        if item is None:
            raise ValueError("unknown credential")
        if user_id is None and (not isinstance(handle, str) or _unb64(handle) != owner.encode()):
            raise ValueError("the user handle is not the credential's account")
        verified = verify_authentication_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp_id,
            expected_origin=expected_origin, credential_public_key=_unb64(item["public_key"]),
            credential_current_sign_count=int(item["sign_count"]), require_user_verification=user_verification)
    except Exception:  # noqa: BLE001 - untrusted bytes: any parse or crypto failure is a refusal
        _drop_challenge(key)
        raise _refused() from None
    tx = _consume(Tx(), key)
    tx.update(keys.passkey(owner, pid), "SET sign_count = :new, last_used_at = :now", cond="sign_count = :old",
              values={":new": verified.new_sign_count, ":now": clock.iso(clock.now()), ":old": item["sign_count"]},
              tag="passkey")
    journal.audit(tx, keys.user_pk(owner), "passkey.used", owner, origin.ip, passkey_id=pid)
    return tx, owner


def sign_in(challenge_id: str, credential: dict[str, Any], origin: Origin) -> dict[str, Any]:
    """The passwordless sign-in: a discoverable credential with user verification stands for both factors.
    The account's refusals apply as they do to a password: lock, IP allowlist, block."""
    key = keys.passkey_challenge(challenge_id)
    try:
        tx, owner = check_assertion(key, credential, None, True, origin)
    except DomainError:
        ratelimit.charge_now(origin.ip)
        raise
    user = load_user(owner)
    now = clock.epoch()
    if (user.get("locked_until") or 0) > now:
        raise auth._locked(user["locked_until"])
    if not auth.ip_allowed(user, origin.ip):
        raise Forbidden("IP_NOT_ALLOWED", "Вход с этого IP-адреса запрещён настройками безопасности")
    if blocking.is_blocked(user):
        raise blocking.refusal(user)
    return auth.finish(tx, user, origin, None, "passkey")
