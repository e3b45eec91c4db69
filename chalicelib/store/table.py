"""The single DynamoDB table: one request per access pattern, conditional writes, opaque cursors."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from chalicelib.core.aws import client
from chalicelib.core.config import settings
from chalicelib.core.errors import ApiError
from chalicelib.store import codec
from chalicelib.store.keys import Key

# Key attributes of the table and of each GSI (infra/resources.py defines the same).
INDEX_KEYS: dict[str | None, tuple[str, str]] = {
    None: ("pk", "sk"),
    "GSI1": ("gsi1pk", "gsi1sk"),
    "ByPhone": ("phone", "pk"),
    "ByEmail": ("email", "pk"),
}


class ConditionFailed(Exception):
    """A conditional write lost: `old` holds the item as it was (when DynamoDB returned it)."""

    def __init__(self, old: dict[str, Any] | None = None, index: int | None = None) -> None:
        super().__init__("condition failed")
        self.old = old
        self.index = index


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
    params = _expr({"TableName": settings().table, "Item": codec.to_item(item)}, cond, names, values)
    try:
        _ddb().put_item(**params)
    except _ddb().exceptions.ConditionalCheckFailedException:
        raise ConditionFailed() from None


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


def _decode_cursor(cursor: str, pk_name: str, pk: str) -> dict[str, Any]:
    bad = ApiError(400, "INVALID_CURSOR", "Некорректный курсор постраничного вывода", {"cursor": "invalid"})
    try:
        plain = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError):
        raise bad from None
    if not isinstance(plain, dict) or plain.get(pk_name) != pk or not all(
            isinstance(v, str) for v in plain.values()):
        raise bad  # a cursor may only continue the caller's own partition
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
        params["ExclusiveStartKey"] = _decode_cursor(cursor, pk_name, pk)
    resp = _ddb().query(**params)
    return Page([codec.from_item(i) for i in resp.get("Items", [])], encode_cursor(resp.get("LastEvaluatedKey")))


@dataclass
class Tx:
    """One TransactWriteItems: the state change, its audit entries and its outbox events together."""

    ops: list[dict[str, Any]] = field(default_factory=list)

    def put(self, item: dict[str, Any], cond: str | None = None, names: dict[str, str] | None = None,
            values: dict[str, Any] | None = None) -> Tx:
        self.ops.append({"Put": _expr({"TableName": settings().table, "Item": codec.to_item(item),
                                       "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}, cond, names, values)})
        return self

    def put_new(self, item: dict[str, Any]) -> Tx:
        return self.put(item, cond="attribute_not_exists(pk)")

    def update(self, key: Key, expr: str, cond: str | None = None, names: dict[str, str] | None = None,
               values: dict[str, Any] | None = None) -> Tx:
        self.ops.append({"Update": _expr({"TableName": settings().table, "Key": _key(key),
                                          "UpdateExpression": expr,
                                          "ReturnValuesOnConditionCheckFailure": "ALL_OLD"},
                                         cond, names, values)})
        return self

    def check(self, key: Key, cond: str, names: dict[str, str] | None = None,
              values: dict[str, Any] | None = None) -> Tx:
        self.ops.append({"ConditionCheck": _expr({"TableName": settings().table, "Key": _key(key),
                                                  "ReturnValuesOnConditionCheckFailure": "ALL_OLD"},
                                                 cond, names, values)})
        return self

    def commit(self) -> None:
        """Write all or nothing; ConditionFailed names the first operation whose condition lost."""
        try:
            _ddb().transact_write_items(TransactItems=self.ops)
        except _ddb().exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons", [])
            for i, reason in enumerate(reasons):
                if reason.get("Code") == "ConditionalCheckFailed":
                    old = reason.get("Item")
                    raise ConditionFailed(codec.from_item(old) if old else None, i) from None
            raise
