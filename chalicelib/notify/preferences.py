"""A person's notification settings (NT-1, NT-3) and the one decision the notify worker asks of them.

The settings live on the account item (`notify_prefs`), which the worker reads anyway to find the contacts: a
notice costs no extra read for them. Someone who never opens the page gets the defaults: every channel on for
every type (what Kabinet did before settings existed), news without SMS, everything immediately, and quiet hours
22:00–08:00 Moscow time for SMS and push.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any

from chalicelib.core import clock
from chalicelib.core.errors import invalid, not_found, too_many
from chalicelib.events import catalog as events
from chalicelib.notify import types
from chalicelib.store import journal, keys, table
from chalicelib.store.table import ConditionFailed, Tx

# Russia has kept no daylight saving time since 2014, and a Lambda image need not carry the tz database.
OFFSETS = {"Europe/Kaliningrad": 2, "Europe/Moscow": 3, "Europe/Samara": 4, "Asia/Yekaterinburg": 5,
           "Asia/Omsk": 6, "Asia/Novosibirsk": 7, "Asia/Krasnoyarsk": 7, "Asia/Irkutsk": 8, "Asia/Yakutsk": 9,
           "Asia/Vladivostok": 10, "Asia/Magadan": 11, "Asia/Kamchatka": 12}
UNREACHABLE_FOR = timedelta(days=30)  # then a contact is tried again, in case the person fixed it


def defaults() -> dict[str, Any]:
    every = {"sms": True, "email": True, "push": True, "inbox": True}
    kinds = {t: {"channels": dict(every), "frequency": "immediately"} for t in types.TITLES}
    kinds["news"]["channels"]["sms"] = False
    return {"types": kinds, "filters": {"statuses": [], "categories": []},
            "quiet_hours": {"enabled": True, "start": "22:00", "end": "08:00"}, "time_zone": "Europe/Moscow"}


def effective(user: dict[str, Any]) -> dict[str, Any]:
    """The stored settings over the defaults (a type added later gets its default)."""
    stored = user.get("notify_prefs") or {}
    prefs = defaults()
    prefs["types"].update(stored.get("types") or {})
    for part in ("filters", "quiet_hours", "time_zone"):
        if part in stored:
            prefs[part] = stored[part]
    for locked in types.LOCKED:
        prefs["types"][locked] = {"channels": {c: True for c in types.CHANNELS}, "frequency": "immediately"}
    return prefs


def stored(prefs: dict[str, Any]) -> dict[str, Any]:
    """What the account item keeps: everything but the security type, which is always on."""
    return {"types": {t: v for t, v in prefs["types"].items() if t not in types.LOCKED},
            "filters": prefs["filters"], "quiet_hours": prefs["quiet_hours"], "time_zone": prefs["time_zone"]}


def view(user: dict[str, Any]) -> dict[str, Any]:
    prefs = effective(user)
    return {"types": [{"type": t, "title": types.TITLES[t], "locked": t in types.LOCKED,
                       "channels": prefs["types"][t]["channels"], "frequency": prefs["types"][t]["frequency"]}
                      for t in types.TITLES],
            "filters": prefs["filters"], "quiet_hours": prefs["quiet_hours"], "time_zone": prefs["time_zone"],
            "unreachable": [{"channel": u["channel"], "contact": u["contact"], "since": u["since"]}
                            for u in (user.get("unreachable") or {}).values()]}


def update(user_id: str, body: dict[str, Any], ip: str | None) -> None:
    """Replace the settings; security notices stay on. Saving also clears the unreachable marks: the person
    has seen them and may have fixed the contact."""
    for locked in types.LOCKED:
        wanted = body["types"].get(locked)
        if wanted and (not all(wanted["channels"].values()) or wanted["frequency"] != "immediately"):
            raise invalid({f"types.{locked}": "Уведомления о безопасности (коды, входы, смена пароля и контактов) "
                                              "отключить нельзя: так вы узнаете, если в кабинет вошёл кто-то другой"})
    prefs = stored(body)
    kinds = prefs["types"]
    tx = Tx()
    tx.update(keys.user(user_id), "SET notify_prefs = :p REMOVE unreachable", cond="attribute_exists(pk)",
              values={":p": prefs})
    journal.audit(tx, keys.user_pk(user_id), events.NOTIFICATION_SETTINGS.name, user_id, ip,
                  types={t: v for t, v in kinds.items()}, quiet_hours=body["quiet_hours"])
    tx.commit()


TESTS_PER_HOUR = 5


def read(user_id: str) -> dict[str, Any]:
    user = table.get(keys.user(user_id))
    if user is None:
        raise not_found("Учётная запись", neuter=True)
    return view(user)


def send_test(user_id: str, notice_type: str, ip: str | None) -> list[str]:
    """A test notice through the channels `notice_type` has on (NT-3); five an hour, so it cannot flood a phone."""
    user = table.get(keys.user(user_id))
    if user is None:
        raise not_found("Учётная запись", neuter=True)
    prefs = effective(user)
    channels = [c for c in types.CHANNELS if prefs["types"][notice_type]["channels"].get(c)
                and (c != "sms" or user.get("phone")) and (c != "email" or user.get("email"))
                and (c != "push" or int(user.get("push_devices", 0)) > 0)]
    hour = clock.now().strftime("%Y-%m-%dT%H")
    tx = Tx().update(keys.notify_tests(user_id, hour), "ADD sent :one SET #ttl = :ttl",
                     cond="attribute_not_exists(sent) OR sent < :most", names={"#ttl": "ttl"},
                     values={":one": 1, ":most": TESTS_PER_HOUR, ":ttl": clock.epoch() + 7200}, tag="limit")
    journal.emit(tx, events.NOTIFICATION_TEST, keys.user_pk(user_id),
                 {"user_id": user_id, "notice_type": notice_type})
    journal.audit(tx, keys.user_pk(user_id), events.NOTIFICATION_TEST.name, user_id, ip, type=notice_type)
    try:
        tx.commit()
    except ConditionFailed:
        raise too_many("TOO_MANY_TESTS", "Проверочных уведомлений можно отправить не больше пяти в час",
                       3600 - clock.now().minute * 60) from None
    return channels


@dataclass(frozen=True)
class Decision:
    action: str  # send | skip | hold (for the digest) | defer (quiet hours, until `when`)
    when: datetime | None = None
    reason: str = ""


def decide(prefs: dict[str, Any], notice_type: str, channel: str, data: dict[str, Any],
           now: datetime) -> Decision:
    """What to do with one notice on one channel now."""
    if notice_type in types.LOCKED or notice_type == "digest":
        return _quiet(prefs, channel, now) if notice_type == "digest" else Decision("send")
    setting = prefs["types"].get(notice_type) or prefs["types"]["system"]
    if not setting["channels"].get(channel):
        return Decision("skip", reason="channel off")
    if channel == "inbox":
        return Decision("send")  # the inbox keeps every notice of a type it is on for: it is the record
    if notice_type == "applications" and not _passes(prefs["filters"], data):
        return Decision("skip", reason="filtered")
    frequency = data.get("frequency") or setting["frequency"]
    if frequency != "immediately":
        return Decision("hold", reason=frequency)
    return _quiet(prefs, channel, now)


def frequency_of(prefs: dict[str, Any], notice_type: str, data: dict[str, Any]) -> str:
    setting = prefs["types"].get(notice_type) or prefs["types"]["system"]
    return data.get("frequency") or setting["frequency"]


def _passes(filters: dict[str, Any], data: dict[str, Any]) -> bool:
    if filters.get("statuses") and data.get("status") and data["status"] not in filters["statuses"]:
        return False
    if filters.get("categories") and data.get("service_id"):
        from chalicelib.catalog import services

        service = services.get(data["service_id"])
        if service is not None and service.category not in filters["categories"]:
            return False
    return True


def local_zone(prefs: dict[str, Any]) -> timezone:
    return timezone(timedelta(hours=OFFSETS.get(prefs.get("time_zone", ""), 3)))


def _quiet(prefs: dict[str, Any], channel: str, now: datetime) -> Decision:
    """SMS and push wait for the morning inside the quiet hours, in the person's own time zone."""
    quiet = prefs["quiet_hours"]
    if channel not in types.NIGHT_CHANNELS or not quiet.get("enabled"):
        return Decision("send")
    local = now.astimezone(local_zone(prefs))
    start, end = time.fromisoformat(quiet["start"]), time.fromisoformat(quiet["end"])
    at = local.time()
    inside = (start <= at < end) if start < end else (at >= start or at < end)
    if start == end or not inside:
        return Decision("send")
    morning = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if morning <= local:
        morning += timedelta(days=1)
    return Decision("defer", when=morning.astimezone(clock.now().tzinfo), reason="quiet hours")


def unreachable(user: dict[str, Any], channel: str, to: str, now: datetime) -> bool:
    mark = (user.get("unreachable") or {}).get(keys.contact_hash(channel, to))
    return bool(mark) and clock.from_iso(mark["since"]) + UNREACHABLE_FOR > now
