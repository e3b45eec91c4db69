"""The registry checks (ID-6): each registry's answer to one submission, and the standard tier when all pass.

`identity.check_requested` (one per registry) reaches the agency worker, which asks the registry and records the
answer: one read (the account and the check, one Query) and one transaction per answer. The check item carries a
`version`; answers arriving at once are serialised by it (the loser re-reads and re-applies its answer, the
registry is not asked again), so the data is promoted, and the tier raised, exactly once.

An unavailable registry is asked again with backoff: the check goes to the sparse GSI1 partition `IDRETRY`
(sorted by the next try), which the 5-minute sweeper reads; the person is told once that the check is delayed and
that it resumes by itself.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from chalicelib.adapters import registries
from chalicelib.adapters.registries import REGISTRIES, TITLES, Answer, RegistryUnavailable
from chalicelib.core import clock
from chalicelib.events import catalog
from chalicelib.identity import personal, tiers
from chalicelib.payments import reminders
from chalicelib.store import journal, keys, table
from chalicelib.store.table import Change, ConditionFailed, Tx

log = logging.getLogger("kabinet.identity")
BACKOFF = (300, 900, 2700, 7200, 21600)  # seconds before asking an unavailable registry again; then every 6 h
RETRY_BATCH = 50
_RELEASES = {"sfr": "snils", "fns": "inn"}  # a number the registry refused is let go for its real owner
INN_TAKEN_REASON = "ИНН, найденный ФНС по паспортным данным, уже указан в другой учётной записи"


def _backoff(attempt: int) -> int:
    return BACKOFF[min(attempt, len(BACKOFF)) - 1]


def _schedule(item: dict[str, Any]) -> None:
    """Keep the check in the retry index while some registry waits for another try."""
    due = [s["retry_at"] for s in item["checks"].values() if s["status"] == "unavailable" and s.get("retry_at")]
    if due:
        item["gsi1pk"] = keys.IDENTITY_RETRY
        item["gsi1sk"] = keys.identity_retry_sort(min(due), item["user_id"])
    else:
        item.pop("gsi1pk", None)
        item.pop("gsi1sk", None)


def _put_check(tx: Tx, item: dict[str, Any], read_version: int) -> None:
    item["version"] = read_version + 1
    _schedule(item)
    tx.put(item, cond="version = :v", values={":v": read_version}, tag="check_changed")


def handle(event: dict[str, Any]) -> str:
    """The agency worker's handler for `identity.check_requested`."""
    data = event["data"]
    user_id, registry = data["user_id"], data["registry"]
    user, check = personal.read(user_id)
    if not _current(check, data["submission_id"], registry):
        return "stale"
    attempt = check["checks"][registry].get("attempts", 0) + 1  # type: ignore[index]
    try:
        answer: Answer | None = registries.ask(registry, check["data"], attempt)  # type: ignore[index]
    except RegistryUnavailable:
        log.warning("registry %s unavailable (attempt %d)", registry, attempt)
        answer = None
    for _ in range(5):
        tx = Tx()
        outcome = _record(tx, user, check, registry, answer, attempt)  # type: ignore[arg-type]
        try:
            tx.commit()
            return outcome
        except ConditionFailed as exc:
            if exc.tag == "inn" and answer is not None:  # the found INN is someone else's: FNS's answer fails
                personal.tell_owner((exc.old or {}).get("user_id"), "inn")
                answer = Answer("failed", {"inn": INN_TAKEN_REASON}, INN_TAKEN_REASON)
            elif exc.tag not in ("check_changed", "tier_changed"):
                raise
        user, check = personal.read(user_id)
        if not _current(check, data["submission_id"], registry):
            return "stale"
    raise RuntimeError(f"identity check of {user_id} kept changing under {registry}'s answer")


def _current(check: dict[str, Any] | None, submission_id: str, registry: str) -> bool:
    """The answer is still wanted: same submission, and this registry has not answered it yet."""
    return bool(check) and check["submission_id"] == submission_id and \
        check["checks"][registry]["status"] in ("pending", "unavailable")  # type: ignore[index]


def _record(tx: Tx, user: dict[str, Any], check: dict[str, Any], registry: str, answer: Answer | None,
            attempt: int) -> str:
    user_id = user["user_id"]
    now = clock.now()
    item = {**check, "checks": {**check["checks"]}, "claimed": dict(check.get("claimed") or {})}
    previous = check["checks"][registry]
    if answer is None:
        retry_at = clock.iso(now + timedelta(seconds=_backoff(attempt)))
        item["checks"][registry] = {
            "status": "unavailable", "attempts": attempt, "retry_at": retry_at, "checked_at": clock.iso(now),
            "reason": f"{TITLES[registry]}: сервис временно недоступен. Проверка продолжится автоматически"}
        _put_check(tx, item, check["version"])
        if previous["status"] == "pending":  # told once per registry and submission
            _notify(tx, catalog.CHECK_DELAYED, user_id, [registry])
        return "unavailable"
    state = {"status": answer.status, "attempts": attempt, "checked_at": clock.iso(now), "reason": answer.reason,
             "fields": answer.fields or None}
    found_inn = answer.found.get("inn")
    if found_inn:
        state["found_inn"] = found_inn
        if found_inn != user.get("inn"):
            pk, sk = keys.login_alias("inn", found_inn)
            tx.put({"pk": pk, "sk": sk, "user_id": user_id}, cond="attribute_not_exists(pk) OR user_id = :me",
                   values={":me": user_id}, tag="inn")
            item["claimed"]["inn"] = found_inn
    item["checks"][registry] = state
    if answer.status == "failed":
        _release(tx, user, item, _RELEASES.get(registry))
        _notify(tx, catalog.CHECK_FAILED, user_id, [registry], list(answer.fields.values()) or [answer.reason or ""])
        journal.audit(tx, keys.user_pk(user_id), catalog.CHECK_FAILED.name, "system", None, registry=registry,
                      fields=sorted(answer.fields))
        _put_check(tx, item, check["version"])
        return "failed"
    if personal.settled(item):
        _promote(tx, user, item)
        _put_check(tx, item, check["version"])
        return "promoted"
    _put_check(tx, item, check["version"])
    return "passed"


def _release(tx: Tx, user: dict[str, Any], item: dict[str, Any], kind: str | None) -> None:
    value = item["claimed"].pop(kind, None) if kind else None
    if value and value != user.get(kind):
        tx.delete(keys.login_alias(kind, value), cond="user_id = :me", values={":me": user["user_id"]})  # type: ignore[arg-type]


def _promote(tx: Tx, user: dict[str, Any], item: dict[str, Any]) -> None:
    """Every registry passed: the data becomes the account's checked data (and the tier standard, ID-6)."""
    user_id = user["user_id"]
    data = {**item["data"]}
    if not data.get("inn"):
        data["inn"] = item["checks"]["fns"].get("found_inn") or user.get("inn")
    for kind in personal.NUMBERS:  # a number the account no longer uses is let go
        old = user.get(kind)
        if old and old != data.get(kind):
            tx.delete(keys.login_alias(kind, old), cond="user_id = :me", values={":me": user_id})
    item["claimed"] = {}
    reminders.watch(tx, user_id)  # PY-6: the checked INN and SNILS find the person's debts every day
    changed = sorted(f for f in personal.FIELDS if user.get(f) != data.get(f))
    if not tiers.raise_tier(tx, user, "standard", channel="registries", actor="system", ip=None, also=data,
                            changed=changed):
        change = Change()
        for attr, value in data.items():
            change.set(attr, value)
        change.require("attribute_exists({pk})").apply(tx, keys.user(user_id))
        journal.audit(tx, keys.user_pk(user_id), catalog.DATA_UPDATED.name, "system", None, changed=changed)
        _notify(tx, catalog.DATA_UPDATED, user_id, list(REGISTRIES))


def _notify(tx: Tx, event: catalog.EventType, user_id: str, which: list[str], reasons: list[str] | None = None
            ) -> None:
    journal.emit(tx, event, keys.user_pk(user_id),
                 {"user_id": user_id, "registry_titles": ", ".join(TITLES[r] for r in which),
                  "reasons": reasons or []})


def retry_due() -> int:
    """The sweeper's part: ask again every registry whose retry time has come (each check one transaction)."""
    now = clock.iso(clock.now())
    page = table.query(keys.IDENTITY_RETRY, index="GSI1", sk_between=("0", now + "~"), newest_first=False,
                       limit=RETRY_BATCH)
    asked = 0
    for check in page.items:  # GSI1 projects whole items
        item = {**check, "checks": {**check["checks"]}}
        due = [r for r, s in item["checks"].items()
               if s["status"] == "unavailable" and s.get("retry_at") and s["retry_at"] <= now]
        tx = Tx()
        for registry in due:
            item["checks"][registry] = {k: v for k, v in item["checks"][registry].items() if k != "retry_at"}
            journal.emit(tx, catalog.CHECK_REQUESTED, keys.user_pk(item["user_id"]),
                         {"user_id": item["user_id"], "submission_id": item["submission_id"], "registry": registry})
        _put_check(tx, item, check["version"])
        try:
            tx.commit()
            asked += len(due)
        except ConditionFailed:
            log.info("identity check of %s changed while re-asking; the next sweep sees it", item["user_id"])
    return asked
