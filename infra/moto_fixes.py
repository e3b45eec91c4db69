"""Fidelity fixes for moto as the local stand-in for AWS. Applied by the local cloud and the tests.

moto 5.2 applies a TransactWriteItems operation by operation and, when a condition fails, swaps the
touched tables for copies taken before. DynamoDB Streams iterators keep pointing at the swapped-out
table's shard: they then see records of the cancelled writes and never the records of later ones.
On AWS a cancelled transaction writes nothing and leaves no stream record. This fix runs the
transaction on copies first and applies it to the real tables only when every condition holds.

The dry run uses a shallow copy of the backend holding the table copies, so the real backend is never
swapped: moto server answers requests on several threads, and a write landing during a swap would be
lost (the local cloud's API and event pump write concurrently). One lock serialises the writes with the
copy, which must not see a table change half-way.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

_APPLIED = False
_WRITES = threading.RLock()


def apply() -> None:
    global _APPLIED
    if _APPLIED:
        return
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        names = {next(iter(i.values())).get("TableName") for i in transact_items}
        with _WRITES:
            shadow = copy.copy(self)
            shadow.tables = {n: copy.deepcopy(t) if n in names else t for n, t in self.tables.items()}
            original(shadow, transact_items)  # dry run: raises exactly what AWS would, touches only copies
            original(self, transact_items)

    DynamoDBBackend.transact_write_items = transact_write_items
    for name in ("put_item", "update_item", "delete_item"):
        setattr(DynamoDBBackend, name, _serialised(getattr(DynamoDBBackend, name)))
    _APPLIED = True


def _serialised(method: Any) -> Any:
    def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _WRITES:
            return method(self, *args, **kwargs)
    return locked
