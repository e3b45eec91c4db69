"""The single DynamoDB table: one request per access pattern, conditional writes, opaque cursors."""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib.core.aws import client
from chalicelib.core.config import settings
from chalicelib.core.errors import Invalid
from chalicelib.store import codec
from chalicelib.store.keys import Key

log = logging.getLogger("kabinet.store")

# Key attributes of the table and of each GSI (infra/resources.py defines the same). Only user items
# carry top-level `phone` / `email` / `snils` attributes: those sparse indexes hold accounts and nothing else.
INDEX_KEYS: dict[str | None, tuple[str, str | None]] = {
    None: ("pk", "sk"),
    "GSI1": ("gsi1pk", "gsi1sk"),
    "GSI2": ("gsi2pk", "gsi2sk"),
    "ByPhone": ("phone", None),
    "ByEmail": ("email", None),
    "BySnils": ("snils", None),  # only checked SNILS: the account item gets it when the registries agreed
}


class TransactionConflict(Exception):
    """Another transaction was writing the same item at that moment: nothing was written; the caller may retry."""


class ConditionFailed(Exception):
    """A conditional write lost: `old` holds the item as it was (when DynamoDB returned it)."""

    def __init__(self, old: dict[str, Any] | None = None, tag: str | None = None) -> None:
        super().__init__("condition failed")
        self.old = old
        self.tag = tag


def _ddb() -> Any:
    return client("dynamodb")


def _key(key: Key) -> dict[str, Any]:
    return {"pk": {"S": key[0]}, "sk": {"S": key[1]}}


def _values(values: dict[str, Any] | None) -> dict[str, Any]:
    return {k: codec.to_attr(v) for k, v in (values or {}).items()}


def _expr(params: dict[str, Any], cond: str | None, names: dict[str, str] | None,
          values: dict[str, Any] | None) -> dict[str, Any]:
    if cond:
        params["ConditionExpression"] = cond
    if names:
        params["ExpressionAttributeNames"] = names
    if values:
        params["ExpressionAttributeValues"] = _values(values)
    return params


def get(key: Key, consistent: bool = True) -> dict[str, Any] | None:
    resp = _ddb().get_item(TableName=settings().table, Key=_key(key), ConsistentRead=consistent)
    return codec.from_item(resp["Item"]) if "Item" in resp else None


def put(item: dict[str, Any], cond: str | None = None, names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None) -> None:
    """Put the item; on a lost condition ConditionFailed carries the item that is there."""
    params = _expr({"TableName": settings().table, "Item": codec.to_item(item),
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}, cond, names, values)
    try:
        _ddb().put_item(**params)
    except _ddb().exceptions.ConditionalCheckFailedException as exc:
        old = exc.response.get("Item")
        raise ConditionFailed(codec.from_item(old) if old else None) from None


def update(key: Key, expr: str, cond: str | None = None, names: dict[str, str] | None = None,
           values: dict[str, Any] | None = None) -> dict[str, Any]:
    """Update and return the new item; on a lost condition ConditionFailed carries the old one."""
    params = _expr({"TableName": settings().table, "Key": _key(key), "UpdateExpression": expr,
                    "ReturnValues": "ALL_NEW", "ReturnValuesOnConditionCheckFailure": "ALL_OLD"},
                   cond, names, values)
    try:
        return codec.from_item(_ddb().update_item(**params)["Attributes"])
    except _ddb().exceptions.ConditionalCheckFailedException as exc:
        old = exc.response.get("Item")
        raise ConditionFailed(codec.from_item(old) if old else None) from None


def delete(key: Key) -> None:
    _ddb().delete_item(TableName=settings().table, Key=_key(key))


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    plain = codec.from_item(last_key)
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, index: str | None, pk: str) -> dict[str, Any]:
    bad = Invalid("INVALID_CURSOR", "Некорректный курсор постраничного вывода", {"cursor": "invalid"})
    try:
        plain = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, RecursionError):
        raise bad from None
    pk_name, sk_name = INDEX_KEYS[index]
    expected = {"pk", "sk", pk_name} | ({sk_name} if sk_name else set())
    if not isinstance(plain, dict) or set(plain) != expected or plain.get(pk_name) != pk or not all(
            isinstance(v, str) and 0 < len(v) <= 1024 for v in plain.values()):
        raise bad  # exactly a start key of this index, in the caller's own partition
    return codec.to_item(plain)


@dataclass
class Page:
    items: list[dict[str, Any]]
    cursor: str | None


def query(pk: str, sk_prefix: str | None = None, *, index: str | None = None, limit: int = 20,
          cursor: str | None = None, newest_first: bool = True, sk_between: tuple[str, str] | None = None,
          filter_expr: str | None = None, filter_values: dict[str, Any] | None = None,
          filter_names: dict[str, str] | None = None, consistent: bool = False) -> Page:
    pk_name, sk_name = INDEX_KEYS[index]
    values: dict[str, Any] = {":pk": pk}
    cond = "#pk = :pk"
    names = {"#pk": pk_name}
    if (sk_between or sk_prefix) and sk_name is None:
        raise ValueError(f"index {index} has no sort key")
    if sk_between:
        cond += " AND #sk BETWEEN :lo AND :hi"
        values[":lo"], values[":hi"] = sk_between
        names["#sk"] = sk_name
    elif sk_prefix:
        cond += " AND begins_with(#sk, :prefix)"
        values[":prefix"] = sk_prefix
        names["#sk"] = sk_name
    values.update(filter_values or {})
    names.update(filter_names or {})
    params: dict[str, Any] = {"TableName": settings().table, "KeyConditionExpression": cond,
                              "ExpressionAttributeNames": names, "ExpressionAttributeValues": _values(values),
                              "ScanIndexForward": not newest_first, "Limit": limit}
    if index:
        params["IndexName"] = index
    elif consistent:
        params["ConsistentRead"] = True
    if filter_expr:
        params["FilterExpression"] = filter_expr
    if cursor:
        params["ExclusiveStartKey"] = _decode_cursor(cursor, index, pk)
    resp = _ddb().query(**params)
    return Page([codec.from_item(i) for i in resp.get("Items", [])], encode_cursor(resp.get("LastEvaluatedKey")))


@dataclass
class Tx:
    """One TransactWriteItems: the state change, its audit entries and its outbox events together.

    Operations may carry a `tag`; a lost condition raises ConditionFailed with that tag, so the caller
    can tell "already locked" from "rate limit reached" without counting positions.
    """

    ops: list[dict[str, Any]] = field(default_factory=list)
    tags: list[str | None] = field(default_factory=list)
    undo: list[Callable[[], None]] = field(default_factory=list)

    def on_failure(self, fn: Callable[[], None]) -> Tx:
        """Undo a side effect outside the table (an S3 object written for this transaction) when the
        transaction does not commit: the loser of a race leaves nothing behind."""
        self.undo.append(fn)
        return self

    def _add(self, kind: str, params: dict[str, Any], tag: str | None) -> Tx:
        params["TableName"] = settings().table
        params["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        self.ops.append({kind: params})
        self.tags.append(tag)
        return self

    def put(self, item: dict[str, Any], cond: str | None = None, names: dict[str, str] | None = None,
            values: dict[str, Any] | None = None, tag: str | None = None) -> Tx:
        return self._add("Put", _expr({"Item": codec.to_item(item)}, cond, names, values), tag)

    def put_new(self, item: dict[str, Any], tag: str | None = None) -> Tx:
        return self.put(item, cond="attribute_not_exists(pk)", tag=tag)

    def update(self, key: Key, expr: str, cond: str | None = None, names: dict[str, str] | None = None,
               values: dict[str, Any] | None = None, tag: str | None = None) -> Tx:
        return self._add("Update", _expr({"Key": _key(key), "UpdateExpression": expr}, cond, names, values), tag)

    def check(self, key: Key, cond: str, names: dict[str, str] | None = None,
              values: dict[str, Any] | None = None, tag: str | None = None) -> Tx:
        return self._add("ConditionCheck", _expr({"Key": _key(key)}, cond, names, values), tag)

    def delete(self, key: Key, cond: str | None = None, names: dict[str, str] | None = None,
               values: dict[str, Any] | None = None, tag: str | None = None) -> Tx:
        return self._add("Delete", _expr({"Key": _key(key)}, cond, names, values), tag)

    def commit(self) -> None:
        """Write all or nothing; ConditionFailed names the first operation whose condition lost. When nothing
        was written, the side effects registered with `on_failure` are undone first."""
        try:
            _ddb().transact_write_items(TransactItems=self.ops)
        except _ddb().exceptions.TransactionCanceledException as exc:
            self._undo()
            reasons = exc.response.get("CancellationReasons", [])
            for i, reason in enumerate(reasons):
                if reason.get("Code") == "ConditionalCheckFailed":
                    old = reason.get("Item")
                    raise ConditionFailed(codec.from_item(old) if old else None, self.tags[i]) from None
            if any(reason.get("Code") == "TransactionConflict" for reason in reasons):
                raise TransactionConflict() from None
            raise
        self.undo.clear()

    def _undo(self) -> None:
        for fn in reversed(self.undo):
            try:
                fn()
            except Exception:
                log.exception("could not undo a side effect of a cancelled transaction")
        self.undo.clear()


class Change:
    """An UpdateItem expression built clause by clause, so flows can add what they need to one write."""

    def __init__(self) -> None:
        self._set: list[str] = []
        self._remove: list[str] = []
        self._delete: list[str] = []
        self._cond: list[str] = []
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def _name(self, attr: str) -> str:
        alias = f"#a{len(self.names)}"
        self.names[alias] = attr
        return alias

    def _value(self, value: Any) -> str:
        alias = f":v{len(self.values)}"
        self.values[alias] = value
        return alias

    def set(self, attr: str, value: Any) -> Change:
        if value is None:
            return self.remove(attr)
        self._set.append(f"{self._name(attr)} = {self._value(value)}")
        return self

    def remove(self, attr: str) -> Change:
        self._remove.append(self._name(attr))
        return self

    def delete_from(self, attr: str, members: set[str]) -> Change:
        self._delete.append(f"{self._name(attr)} {self._value(members)}")
        return self

    def require(self, template: str, **values: Any) -> Change:
        """A condition; `{name}` marks an attribute, `:x` a value given as x=..."""
        expr = template
        for attr in set(re.findall(r"{(\w+)}", template)):
            expr = expr.replace("{" + attr + "}", self._name(attr))
        for key, value in values.items():
            expr = re.sub(rf":{key}\b", self._value(value), expr)
        self._cond.append(f"({expr})")
        return self

    def apply(self, tx: Tx, key: Key, tag: str | None = None) -> Tx:
        parts = []
        if self._set:
            parts.append("SET " + ", ".join(self._set))
        if self._remove:
            parts.append("REMOVE " + ", ".join(self._remove))
        if self._delete:
            parts.append("DELETE " + ", ".join(self._delete))
        return tx.update(key, " ".join(parts), cond=" AND ".join(self._cond) or None,
                         names=self.names or None, values=self.values or None, tag=tag)


def get_many(keys_: list[Key]) -> list[dict[str, Any] | None]:
    """Several items in one consistent BatchGetItem, in the order asked (None where missing); keys DynamoDB
    left unprocessed (throttling) are asked again, so "missing" always means missing."""
    wanted: dict[str, Any] = {settings().table: {"Keys": [_key(k) for k in dict.fromkeys(keys_)],
                                                 "ConsistentRead": True}}
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for _ in range(5):
        resp = _ddb().batch_get_item(RequestItems=wanted)
        for i in resp["Responses"].get(settings().table, []):
            found[(i["pk"]["S"], i["sk"]["S"])] = codec.from_item(i)
        wanted = resp.get("UnprocessedKeys") or {}
        if not wanted:
            return [found.get(k) for k in keys_]
    raise RuntimeError("BatchGetItem left keys unprocessed after 5 tries")


def due_by_day(partition: Callable[[str], str], now: datetime) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every item of yesterday's and today's GSI1 day partitions (`partition("YYYY-MM-DD")`), with its partition:
    the daily reminders re-read yesterday's in case that run was missed; each reminder's own condition keeps it
    to once."""
    for day in (now - timedelta(days=1), now):
        key = partition(day.strftime("%Y-%m-%d"))
        cursor = None
        while True:
            page = query(key, index="GSI1", cursor=cursor, limit=100, newest_first=False)
            for item in page.items:  # GSI1 projects whole items
                yield key, item
            cursor = page.cursor
            if not cursor:
                break
