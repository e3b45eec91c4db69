"""Binding a qualified e-signature certificate to the account (AU-5, DC-5), confirmed with a one-time code.

Upload: the certificate must chain to the trusted CA list, be valid now, allow digital signatures and name the
account's checked SNILS (and INN, when both have one): only then is a code sent (`otp`, purpose `esign_bind`: the
usual 5 minutes and 5 tries) and the certificate kept beside it, waiting (`ESIGN#PENDING`, one at a time).

Confirmation is one transaction: the code consumed, the pending certificate taken, the binding and its alias
`ESIGNCERT#<sha256>` (one account per certificate) put only if absent, and — for an account at the standard tier —
the tier raised to confirmed with channel "esign" (conditional on the tier read). Of parallel confirmations exactly
one commits; the others find the code gone. A bound certificate is the identity check ID-7 asks for: the
accredited CA has seen the person's passport when it issued it.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

from chalicelib.adapters import esign_trust
from chalicelib.calendar import items as calendar_items
from chalicelib.core import clock
from chalicelib.core.errors import Conflict, Invalid, not_found
from chalicelib.core.ids import is_id, new_id
from chalicelib.esign import certs
from chalicelib.events import catalog
from chalicelib.identity import otp, tiers
from chalicelib.identity.users import code_channel, load_user
from chalicelib.store import journal, keys, table
from chalicelib.store.table import ConditionFailed, Tx

PURPOSE = "esign_bind"
REMIND_DAYS_BEFORE = 30
LIST_LIMIT = 50


def _iso(moment: datetime) -> str:
    return clock.iso(moment.replace(microsecond=0))


def facts_view(f: certs.CertFacts) -> dict[str, Any]:
    return {"serial": f.serial, "owner": f.owner, "issuer": f.issuer, "not_before": _iso(f.not_before),
            "not_after": _iso(f.not_after), "sha256": f.sha256}


def view(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item["certificate_id"], "serial": item["serial"], "owner": item["owner"], "issuer": item["issuer"],
            "not_before": item["not_before"], "not_after": item["not_after"], "sha256": item["sha256"],
            "bound_at": item["bound_at"], "expired": clock.now() > clock.from_iso(item["not_after"])}


def until(item: dict[str, Any]) -> str:
    """The last day of validity as a person reads it (DD.MM.YYYY, Moscow)."""
    return clock.ru(clock.from_iso(item["not_after"]))[:10]


def notice(item: dict[str, Any], days_left: int | None = None) -> dict[str, Any]:
    """The payload of the account's notices about this certificate."""
    data = {"user_id": item["user_id"], "certificate_id": item["certificate_id"], "serial": item["serial"],
            "owner": item["owner"], "issuer": item["issuer"], "until": until(item)}
    if days_left is not None:
        data["days_left"] = days_left
    return data


def reminder_day(not_after: datetime, today: datetime) -> str:
    """When the expiry reminder is due: 30 days before, or the next daily run if that day has passed."""
    due = not_after - timedelta(days=REMIND_DAYS_BEFORE)
    return max(due, today).strftime("%Y-%m-%d")


def start(user_id: str, certificate: str, ip: str | None) -> dict[str, Any]:
    """Check an uploaded certificate and send the binding code (AU-5, DC-5)."""
    user = load_user(user_id)
    tiers.require_standard(user)  # the subject is compared with data the registries checked
    now = clock.now()
    f = certs.bindable(certs.decode(certificate), now, user.get("snils"), user.get("inn"), esign_trust.trust_list())
    owner = (table.get(keys.esign_alias(f.sha256)) or {}).get("user_id")
    if owner == user_id:
        raise Conflict("CERT_ALREADY_BOUND", "Этот сертификат уже привязан к вашей учётной записи")
    if owner:  # only its subject's SNILS passed the check above: no one learns anything about another account
        raise Conflict("CERT_TAKEN", "Этот сертификат привязан к другой учётной записи: обратитесь в поддержку")
    channel, to = code_channel(user)
    tx = Tx()
    answer = otp.issue(tx, keys.user_pk(user_id), PURPOSE, channel, to, first_name=user["first_name"])
    pk, sk = keys.esign_pending(user_id)
    epoch = clock.epoch()
    tx.put({"pk": pk, "sk": sk, "cert": base64.b64encode(f.der).decode(), **facts_view(f),
            "expires_at": epoch + otp.TTL, "ttl": epoch + otp.TTL + 3600})
    journal.audit(tx, keys.user_pk(user_id), "esign.bind_requested", user_id, ip, serial=f.serial,
                  issuer=f.issuer, sha256=f.sha256)
    otp.commit_issue(tx, ip)
    return {"certificate": facts_view(f), **answer}


def confirm(user_id: str, code: str, ip: str | None) -> dict[str, Any]:
    """The code from the message binds the waiting certificate; a standard account becomes confirmed."""
    for _ in range(2):  # a tier raised meanwhile by another channel: once more, without the raise
        user, item, pending = table.get_many([keys.user(user_id), keys.code(keys.user_pk(user_id), PURPOSE),
                                              keys.esign_pending(user_id)])
        if user is None:
            raise not_found("Пользователь")
        tx = Tx()
        otp.verify(keys.user_pk(user_id), PURPOSE, code, tx, ip, item=item)
        if pending is None:  # the code outlived its certificate (never: both are written and replaced together)
            raise Invalid("CODE_INVALID", "Код уже использован или заменён новым", {"code": "Неверный код"},
                          attempts_left=0)
        binding = _binding(user_id, pending)
        tx.delete(keys.esign_pending(user_id), cond="sha256 = :s", values={":s": pending["sha256"]}, tag="code_used")
        tx.put_new(binding, tag="binding")
        alias_pk, alias_sk = keys.esign_alias(pending["sha256"])
        tx.put_new({"pk": alias_pk, "sk": alias_sk, "user_id": user_id, "certificate_id": binding["certificate_id"]},
                   tag="cert_taken")
        raised = user.get("role", "citizen") == "citizen" and tiers.raise_tier(
            tx, user, "confirmed", channel="esign", actor=user_id, ip=ip, serial=pending["serial"],
            issuer=pending["issuer"])
        journal.audit(tx, keys.user_pk(user_id), catalog.ESIGN_BOUND.name, user_id, ip,
                      certificate_id=binding["certificate_id"], serial=pending["serial"], issuer=pending["issuer"],
                      sha256=pending["sha256"], not_after=pending["not_after"])
        journal.emit(tx, catalog.ESIGN_BOUND, keys.user_pk(user_id), notice(binding))
        _calendar(tx, binding)
        try:
            tx.commit()
        except ConditionFailed as exc:
            if exc.tag == "tier_changed":
                continue
            if exc.tag == "cert_taken":
                raise Conflict("CERT_TAKEN", "Этот сертификат уже привязан к учётной записи") from None
            raise Invalid("CODE_INVALID", "Код уже использован или заменён новым", {"code": "Неверный код"},
                          attempts_left=0) from None
        tier = "confirmed" if raised else user.get("tier") or "simplified"
        return {"certificate": view(binding), "tier": tier, "tier_raised": bool(raised)}
    raise tiers.tier_changed()


def _binding(user_id: str, pending: dict[str, Any]) -> dict[str, Any]:
    certificate_id = new_id()
    pk, sk = keys.esign_cert(user_id, certificate_id)
    not_after = clock.from_iso(pending["not_after"])
    return {"pk": pk, "sk": sk, "certificate_id": certificate_id, "user_id": user_id, "cert": pending["cert"],
            **{k: pending[k] for k in ("serial", "owner", "issuer", "not_before", "not_after", "sha256")},
            "bound_at": clock.iso(clock.now()),
            "gsi1pk": keys.esign_reminders(reminder_day(not_after, clock.now())),
            "gsi1sk": keys.esign_reminder_sort(user_id, certificate_id)}


def _calendar(tx: Tx, binding: dict[str, Any]) -> None:
    """NT-5: the certificate's expiry (a moment) is in the calendar while it is bound."""
    calendar_items.put(tx, binding["user_id"], "esign", binding["certificate_id"],
                       calendar_items.moscow_day(binding["not_after"]), f"{binding['owner']}, № {binding['serial']}",
                       "/security", at=binding["not_after"])


def list_certificates(user_id: str) -> dict[str, Any]:
    page = table.query(keys.user_pk(user_id), keys.ESIGN_CERTS, limit=LIST_LIMIT, newest_first=True)
    return {"items": [view(i) for i in page.items]}


def unbind(user_id: str, certificate_id: str, ip: str | None) -> None:
    """Remove a bound certificate (a lost or compromised key): sign-in and signing with it stop at once.
    The tier stays: identity once confirmed stays confirmed (ID-7)."""
    item = table.get(keys.esign_cert(user_id, certificate_id)) if is_id(certificate_id) else None
    if item is None:
        raise not_found("Сертификат")
    tx = Tx().delete(keys.esign_cert(user_id, certificate_id), cond="attribute_exists(pk)", tag="binding")
    tx.delete(keys.esign_alias(item["sha256"]), cond="user_id = :me", values={":me": user_id})
    journal.audit(tx, keys.user_pk(user_id), catalog.ESIGN_UNBOUND.name, user_id, ip,
                  certificate_id=certificate_id, serial=item["serial"], sha256=item["sha256"])
    journal.emit(tx, catalog.ESIGN_UNBOUND, keys.user_pk(user_id), notice(item))
    calendar_items.remove(tx, user_id, "esign", certificate_id, calendar_items.moscow_day(item["not_after"]))
    try:
        tx.commit()
    except ConditionFailed:
        raise not_found("Сертификат") from None


def bound_to(cert_sha256: str) -> dict[str, Any] | None:
    """The binding of a certificate, by its SHA-256: {user_id, certificate_id}, or None when it is not bound."""
    return table.get(keys.esign_alias(cert_sha256))


def binding_of(user_id: str, certificate_id: str) -> dict[str, Any] | None:
    return table.get(keys.esign_cert(user_id, certificate_id))
