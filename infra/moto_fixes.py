"""Fidelity fixes for moto as the local stand-in for AWS. Applied by the local cloud and the tests.

moto 5.2 applies a TransactWriteItems operation by operation and, when a condition fails, swaps the
touched tables for copies taken before. DynamoDB Streams iterators keep pointing at the swapped-out
table's shard: they then see records of the cancelled writes and never the records of later ones.
On AWS a cancelled transaction writes nothing and leaves no stream record. This fix runs the
transaction on copies first and applies it to the real tables only when every condition holds.

The dry run uses a shallow copy of the backend whose tables are shadows: the same item index, with deep
copies of only the items the transaction touches and no stream. So the real backend is never swapped
(moto server answers requests on several threads, and a write landing during a swap would be lost: the
local cloud's API and event pump write concurrently), and a dry run costs what the transaction touches,
not the size of the table. One lock serialises the writes with the shadowing.

moto also deep-copies every table a transaction touches, as a backup, before applying it: the whole table,
items and stream records, so transactions slow down as the local table grows (login took seconds after a
few hundred requests). Inside this fix the backup is not needed — the shadow run is thrown away and the
real run cannot fail once the shadow run passed under the same lock — so it is skipped there.

moto makes an RSA-2048 key pair for every KMS key, the symmetric ones too (it never uses it for them): a
quarter of a second per key, ~0.25 s of every fresh account the tests provision. Symmetric keys share one pair
per process; asymmetric keys still get their own.

Three costs of moto's HTTP server that AWS does not have, paid on every request: it lists its own package
directory to route the request (`list_of_moto_modules`, ~5 % of a test's time), it inspects the response
class's members to find the action, and werkzeug closes every connection, so each call opens a new TCP
connection and a new server thread. The first two are cached; connections are kept alive, as AWS keeps them,
with what the handler left unread of a request's body drained first (werkzeug closes because http.server
does not drain it). A chunked request still closes its connection.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

_APPLIED = False
_WRITES = threading.RLock()
_NO_BACKUP = threading.local()


def apply() -> None:
    global _APPLIED
    if _APPLIED:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items
    Table.__deepcopy__ = _table_deepcopy

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        ops = [next(iter(i.values())) for i in transact_items]
        with _WRITES:
            shadow = copy.copy(self)
            shadow.tables = {n: _shadow(t, [o.get("Key") or o.get("Item") or {} for o in ops
                                            if o.get("TableName") == n])
                             for n, t in self.tables.items()}
            _NO_BACKUP.on = True
            try:
                original(shadow, transact_items)  # dry run: raises exactly what AWS would, touches only copies
                original(self, transact_items)
            finally:
                _NO_BACKUP.on = False

    DynamoDBBackend.transact_write_items = transact_write_items
    _share_symmetric_key_material()
    _cache_request_routing()
    for name in ("put_item", "update_item", "delete_item"):
        setattr(DynamoDBBackend, name, _serialised(getattr(DynamoDBBackend, name)))
    _APPLIED = True


def _cache_request_routing() -> None:
    import functools

    from moto import backends
    from moto.core import responses
    from moto.moto_server import threaded_moto_server
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    responses.method_names_from_class = functools.lru_cache(maxsize=None)(responses.method_names_from_class)
    threaded_moto_server.MotoRequestHandler = _keep_alive(MotoRequestHandler)


def _keep_alive(base: type) -> type:
    import selectors

    from werkzeug import serving
    from werkzeug.wsgi import LimitedStream

    keeping = threading.local()

    class NoDrain:
        """What werkzeug's drain sees on a kept connection: nothing left to read (the body was bounded)."""

        def register(self, *args: Any) -> None: ...
        def select(self, timeout: float | None = None) -> list[Any]: return []
        def close(self) -> None: ...

    class Selectors:
        def __getattr__(self, name: str) -> Any:
            if name == "DefaultSelector" and getattr(keeping, "on", False):
                return NoDrain
            return getattr(selectors, name)

    serving.selectors = Selectors()

    class KeepAlive(base):  # type: ignore[misc, valid-type]
        disable_nagle_algorithm = True  # headers and body are two writes: Nagle would hold the body for an ACK

        def make_environ(self) -> dict[str, Any]:
            environ = super().make_environ()
            length = environ.get("CONTENT_LENGTH") or "0"
            self._keep = "wsgi.input_terminated" not in environ and length.isdigit()
            if self._keep:
                self._body = environ["wsgi.input"] = LimitedStream(self.rfile, int(length))
            return environ

        def send_header(self, keyword: str, value: str) -> None:
            if keyword.lower() == "content-length":
                self._length_sent = True
            if keyword.lower() == "connection" and value == "close" and getattr(self, "_keep", False):
                return
            super().send_header(keyword, value)

        def end_headers(self) -> None:
            if getattr(self, "_keep", False) and not getattr(self, "_length_sent", False):
                self._keep = False  # a body without a length ends when the connection does
                super().send_header("Connection", "close")
            super().end_headers()

        def run_wsgi(self) -> None:
            self._keep = self._length_sent = False
            keeping.on = True
            try:
                super().run_wsgi()
            finally:
                keeping.on = False
            if self._keep and not self.close_connection:
                self._body.exhaust()
            else:
                self.close_connection = True

    return KeepAlive


def _share_symmetric_key_material() -> None:
    import functools

    from moto.kms import models

    original = models.generate_private_key

    @functools.lru_cache(maxsize=1)
    def shared() -> Any:
        return original("SYMMETRIC_DEFAULT")

    models.generate_private_key = lambda spec: shared() if spec == "SYMMETRIC_DEFAULT" else original(spec)


def _serialised(method: Any) -> Any:
    def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _WRITES:
            return method(self, *args, **kwargs)
    return locked


def _shadow(table: Any, keys: list[dict[str, Any]]) -> Any:
    """The table as the transaction sees it, where nothing it does reaches the real one."""
    from collections import defaultdict

    from moto.dynamodb.models.dynamo_type import DynamoType

    shadow = copy.copy(table)
    shadow.stream_shard = None
    ranged = table.range_key_attr is not None
    shadow.items = defaultdict(dict, {h: dict(v) if ranged else v for h, v in table.items.items()})
    for key in keys:
        if table.hash_key_attr not in key:
            continue
        h = DynamoType(key[table.hash_key_attr])
        if ranged and table.range_key_attr in key:
            r = DynamoType(key[table.range_key_attr])
            if r in shadow.items.get(h, {}):
                shadow.items[h][r] = copy.deepcopy(shadow.items[h][r])
        elif not ranged and h in shadow.items:
            shadow.items[h] = copy.deepcopy(shadow.items[h])
    return shadow


def _table_deepcopy(self: Any, memo: dict[int, Any]) -> Any:
    """A table's deep copy, except where moto takes one only as a transaction's backup inside this fix."""
    if getattr(_NO_BACKUP, "on", False):
        return self
    clone = self.__class__.__new__(self.__class__)
    memo[id(self)] = clone
    for name, value in self.__dict__.items():
        setattr(clone, name, copy.deepcopy(value, memo))
    return clone
