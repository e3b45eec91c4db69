"""Reminders 30 days before a bound certificate expires (DC-5), from the daily scheduled run.

Each binding carries `gsi1pk = ESIGNREMIND#<day>` (30 days before `not_after`, or the day it was bound when that
is later). The daily run reads today's and yesterday's partition (a missed run is caught up), and each reminder
is one transaction: the binding leaves the index (conditional on still being in it) and a marker
`ESIGNCERT#<sha256>/REMINDED` is put only if absent — so a certificate is reminded about exactly once, even if
two runs overlap or it is unbound and bound again.
"""

from __future__ import annotations

import contextlib
from typing import Any

from chalicelib.core import clock
from chalicelib.esign import binding
from chalicelib.events import catalog
from chalicelib.store import journal, keys, table
from chalicelib.store.table import ConditionFailed, Tx


def remind_expiring() -> int:
    return sum(_remind(item, key) for key, item in table.due_by_day(keys.esign_reminders, clock.now()))


def _leave_index(tx: Tx, item: dict[str, Any], key: str) -> Tx:
    return tx.update((item["pk"], item["sk"]), "REMOVE gsi1pk, gsi1sk", cond="gsi1pk = :k", values={":k": key},
                     tag="binding")


def _remind(item: dict[str, Any], key: str) -> int:
    days_left = max(0, (clock.from_iso(item["not_after"]) - clock.now()).days)
    tx = _leave_index(Tx(), item, key)
    pk, sk = keys.esign_reminded(item["sha256"])
    tx.put_new({"pk": pk, "sk": sk, "at": clock.iso(clock.now()), "certificate_id": item["certificate_id"]},
               tag="reminded")
    journal.audit(tx, keys.user_pk(item["user_id"]), catalog.ESIGN_EXPIRING.name, "system", None,
                  certificate_id=item["certificate_id"], serial=item["serial"], not_after=item["not_after"])
    journal.emit(tx, catalog.ESIGN_EXPIRING, keys.user_pk(item["user_id"]), binding.notice(item, days_left))
    try:
        tx.commit()
    except ConditionFailed as exc:
        if exc.tag == "reminded":  # this certificate was reminded about under an earlier binding
            with contextlib.suppress(ConditionFailed):
                _leave_index(Tx(), item, key).commit()
        return 0
    return 1
