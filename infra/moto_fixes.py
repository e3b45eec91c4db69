"""Fidelity fixes for moto as the local stand-in for AWS. Applied by the local cloud and the tests.

moto 5.2 applies a TransactWriteItems operation by operation and, when a condition fails, swaps the
touched tables for copies taken before. DynamoDB Streams iterators keep pointing at the swapped-out
table's shard: they then see records of the cancelled writes and never the records of later ones.
On AWS a cancelled transaction writes nothing and leaves no stream record. This fix runs the
transaction on copies first and applies it to the real tables only when every condition holds.
"""

from __future__ import annotations

import copy
from typing import Any

_APPLIED = False


def apply() -> None:
    global _APPLIED
    if _APPLIED:
        return
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        names = {next(iter(i.values())).get("TableName") for i in transact_items}
        real = self.tables
        self.tables = {n: copy.deepcopy(t) if n in names else t for n, t in real.items()}
        try:
            original(self, transact_items)  # dry run: raises exactly what AWS would, touches only copies
        finally:
            self.tables = real
        original(self, transact_items)

    DynamoDBBackend.transact_write_items = transact_write_items
    _APPLIED = True
