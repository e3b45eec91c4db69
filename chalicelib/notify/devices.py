"""Push devices (NF-3): the mobile apps register their push token; the notify worker sends to their endpoints.

A device is `DEVICE#<id>` in the person's partition (platform, name, SNS endpoint ARN), so the list and the
worker's `endpoints()` are one Query. An alias item keyed by the SHA-256 of platform and token says which
account the token belongs to: the same token registered twice is the same device (one GetItem), and a token
registered by another account (the phone signed in to someone else's account) moves there, leaving the old
account in the same transaction — a phone never receives the notices of an account it left. The SNS endpoint is
per token too, so it follows the token (adapters/push.py updates its owner).

Removing a device deletes its endpoint after the transaction; a dead endpoint (SNS disabled it when Apple or
Google refused the token) is forgotten by the worker the same way. Every change writes an audit entry; adding
one also tells the owner (event `device.added`), since a device added by someone else would read every notice.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

from chalicelib.adapters import push
from chalicelib.core import clock
from chalicelib.core.errors import Conflict, Invalid, not_found
from chalicelib.core.ids import is_id, new_id
from chalicelib.core.origin import Origin
from chalicelib.events import catalog as events
from chalicelib.notify.device_models import APNS_TOKEN
from chalicelib.notify.messages import PLATFORM_NAMES
from chalicelib.store import journal, keys, table
from chalicelib.store.table import ConditionFailed, Tx

log = logging.getLogger("kabinet.devices")
MAX_DEVICES = 10  # phones and tablets of one person; more is a leak (tokens never removed) rather than a family
REMOVED = "device.removed"  # an audit action with no event: nobody is told
SHOWN = ("id", "platform", "name", "added_at")


def token_hash(platform: str, token: str) -> str:
    return hashlib.sha256(f"{platform}:{token}".encode()).hexdigest()


def _normal_token(platform: str, token: str) -> str:
    """APNs tokens are hex and case does not matter (one token, one spelling); FCM tokens are taken as they are."""
    if platform != "apns":
        return token
    if not re.fullmatch(APNS_TOKEN, token):
        raise Invalid("VALIDATION_ERROR", "Проверьте введённые данные",
                      {"token": "Токен APNs — шестнадцатеричная строка от 64 символов"})
    return token.lower()


def _items(user_id: str) -> list[dict[str, Any]]:
    return table.query(keys.user_pk(user_id), keys.DEVICES_PREFIX, limit=MAX_DEVICES + 5, newest_first=False,
                       consistent=True).items


def view(item: dict[str, Any]) -> dict[str, Any]:
    return {k: item[k] for k in SHOWN}


def listing(user_id: str) -> list[dict[str, Any]]:
    """The person's devices, oldest first (ids are time-ordered)."""
    return [view(i) for i in _items(user_id)]


def endpoints(user_id: str) -> list[tuple[str, str]]:
    """(device id, SNS endpoint ARN) of every device: what the notify worker publishes to. One Query."""
    return [(i["id"], i["endpoint_arn"]) for i in _items(user_id)]


def register(user_id: str, platform: str, token: str, name: str | None, origin: Origin
             ) -> tuple[dict[str, Any], bool]:
    """The device of this token, registered to this account; True when it is new here (201), False when the
    same token was already this account's (200, nothing changes)."""
    token = _normal_token(platform, token)
    digest = token_hash(platform, token)
    alias = table.get(keys.device_token(digest))
    if alias and alias["user_id"] == user_id:
        mine = table.get(keys.device(user_id, alias["device_id"]))
        if mine:
            return view(mine), False
    if len(_items(user_id)) >= MAX_DEVICES:
        raise Conflict("DEVICE_LIMIT", f"Можно подключить не более {MAX_DEVICES} устройств: удалите ненужное в "
                                       "разделе «Устройства»")
    arn = push.create_endpoint(platform, token, user_id)
    device_id, now = new_id(), clock.iso(clock.now())
    name = name or PLATFORM_NAMES[platform]
    pk, sk = keys.device(user_id, device_id)
    apk, ask = keys.device_token(digest)
    alias_item = {"pk": apk, "sk": ask, "user_id": user_id, "device_id": device_id, "platform": platform}
    tx = Tx()
    if alias is None:  # no undo of the endpoint on failure: a racing registration of the token uses the same one
        tx.put_new(alias_item, tag="token")
    else:  # the token's previous device (another account's, or a leftover) goes in the same transaction
        tx.put(alias_item, cond="user_id = :old AND device_id = :device", tag="token",
               values={":old": alias["user_id"], ":device": alias["device_id"]})
        tx.delete(keys.device(alias["user_id"], alias["device_id"]))
        if alias["user_id"] != user_id:
            tx.update(keys.user(alias["user_id"]), "ADD push_devices :minus", cond="attribute_exists(pk)",
                      values={":minus": -1})
            journal.audit(tx, keys.user_pk(alias["user_id"]), REMOVED, "system", None,
                          device_id=alias["device_id"], reason="moved")
    tx.put_new({"pk": pk, "sk": sk, "id": device_id, "platform": platform, "name": name, "added_at": now,
                "endpoint_arn": arn, "token_hash": digest}, tag="device")
    # the count on the account item: the notify worker reads that item anyway, and skips the devices' Query at 0
    tx.update(keys.user(user_id), "ADD push_devices :one", cond="attribute_exists(pk)", values={":one": 1})
    journal.audit(tx, keys.user_pk(user_id), events.DEVICE_ADDED.name, "user", origin.ip, device_id=device_id,
                  platform=platform, name=name)
    journal.emit(tx, events.DEVICE_ADDED, keys.user_pk(user_id),
                 {"user_id": user_id, "device_id": device_id, "platform": platform, "name": name})
    try:
        tx.commit()
    except ConditionFailed:
        won = table.get(keys.device_token(digest))  # the app's double start: the other request registered it
        mine = table.get(keys.device(user_id, won["device_id"])) if won and won["user_id"] == user_id else None
        if mine:
            return view(mine), False
        raise Conflict("DEVICE_CONFLICT", "Это устройство регистрируется одновременно ещё раз: повторите запрос") \
            from None
    return {"id": device_id, "platform": platform, "name": name, "added_at": now}, True


def _drop(user_id: str, device_id: str, actor: str, ip: str | None, reason: str) -> bool:
    """Delete the device and its token's alias (while it is still this device's), then its endpoint."""
    item = table.get(keys.device(user_id, device_id)) if is_id(device_id) else None
    if item is None:
        return False
    tx = Tx().delete(keys.device(user_id, device_id), cond="attribute_exists(pk)")
    tx.delete(keys.device_token(item["token_hash"]), cond="attribute_not_exists(pk) OR "
              "(user_id = :me AND device_id = :device)", values={":me": user_id, ":device": device_id})
    tx.update(keys.user(user_id), "ADD push_devices :minus", cond="attribute_exists(pk)", values={":minus": -1})
    journal.audit(tx, keys.user_pk(user_id), REMOVED, actor, ip, device_id=device_id, reason=reason)
    try:
        tx.commit()
    except ConditionFailed:
        return False
    try:
        push.delete_endpoint(item["endpoint_arn"])
    except Exception:  # an orphan endpoint receives nothing: no item points at it any more
        log.exception("could not delete a removed device's push endpoint")
    return True


def remove(user_id: str, device_id: str, origin: Origin) -> None:
    """The person removes a device (the page or the app signing out): it gets no more push notices."""
    if not _drop(user_id, device_id, "user", origin.ip, "removed"):
        raise not_found("Устройство", neuter=True)


def forget(user_id: str, device_id: str) -> bool:
    """The worker's cleanup of a dead endpoint (adapters/push.py EndpointGone): False when already gone."""
    return _drop(user_id, device_id, "system", None, "gone")
