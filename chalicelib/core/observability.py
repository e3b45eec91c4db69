"""Structured logs and business metrics (issue 10): JSON lines that say which request or invocation they belong to
and whose account it was about, without personal data.

Logs. `logger` is powertools' Logger on the `kabinet` logger (powertools names its logger after the service), so
every `logging.getLogger("kabinet.…")` in chalicelib writes through its handler and JSON formatter; no module
has to change how it logs. A line carries the keys of the scope it is written in: an API request (`request_id` —
API Gateway's, the one a 500 answer and the `x-amzn-RequestId` header show — `method`, `route`, `user`) or a
worker's invocation (`handler`), plus, from the Lambda context, `function_name`, `function_request_id`,
`function_memory_size`, `function_arn` and `cold_start`, and `xray_trace_id` when X-Ray traces the call.
Scopes are kept in a context variable (powertools' "thread-safe" keys): the threads of `chalice local` do not mix,
and nothing outlives its request.

`user` is never the account id: it is `user_hash(id)`, an HMAC-SHA256 keyed per stage (`KABINET_LOG_USER_KEY`
overrides the key), cut to 16 hex digits — the same person gives the same value across lines and functions, and
nobody can get from it to the account, its phone or its e-mail. Log calls pass ids of things (events, documents,
applications), never contacts, names, codes or tokens; the JSON writer also masks anything shaped like an e-mail
address or a Russian phone number, for what an exception's message might carry.

Metrics. `count(NAME)` adds to powertools' Metrics (CloudWatch Embedded Metric Format: a JSON line CloudWatch turns
into metrics, no PutMetricData call), namespace `Kabinet`, dimensions `service` and `stage`. The counts are written
once at the end of each request or invocation, and only inside Lambda: tests and the local cloud print nothing
(POWERTOOLS_METRICS_DISABLED=true silences Lambda too). A request that counted nothing writes no line.

Tracing. No X-Ray SDK (powertools' Tracer): importing it costs more than the whole `import app` (docs/architecture.md,
Observability); the functions' active tracing gives the invocation segments without it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import json
import logging
import os
import re
from collections.abc import Callable, Iterator
from typing import Any

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics import Metrics, MetricUnit

from chalicelib.core.config import settings

ROOT_LOGGER = "kabinet"  # every module's logger is "kabinet.<area>"
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or ROOT_LOGGER
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "Kabinet"
USER_HASH_DIGITS = 16

# The business metrics (Count), each counted in one place of the api or events layer.
SIGN_IN_SUCCEEDED = "SignInSucceeded"  # api/auth.py: tokens issued by /auth/login or /auth/login/mfa
SIGN_IN_FAILED = "SignInFailed"  # api/auth.py: a sign-in step refused (wrong password or code, locked, IP, limit)
APPLICATION_SUBMITTED = "ApplicationSubmitted"  # api/applications.py: POST /requests or a draft's submit
NOTIFICATION_SENT = "NotificationSent"  # events/notify_worker.py: an SMS or e-mail handed to SNS or SES
NOTIFICATION_FAILED = "NotificationFailed"  # events/notify_worker.py: SNS or SES refused or failed
DOCUMENT_CHECKED = "DocumentChecked"  # events/document_checker.py: an upload accepted or rejected
DOCUMENT_REJECTED = "DocumentRejected"  # events/document_checker.py: an upload rejected
METRICS = (SIGN_IN_SUCCEEDED, SIGN_IN_FAILED, APPLICATION_SUBMITTED, NOTIFICATION_SENT, NOTIFICATION_FAILED,
           DOCUMENT_CHECKED, DOCUMENT_REJECTED)

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![\w+])\+?[78][\s(-]{0,2}\d{3}[\s)-]{0,2}\d{3}[\s-]?\d{2}[\s-]?\d{2}(?!\d)")


def _serialize(line: dict[str, Any]) -> str:
    """Compact JSON, Cyrillic as it is; e-mail addresses and phone numbers masked whatever key they came in."""
    text = json.dumps(line, ensure_ascii=False, separators=(",", ":"), default=str)
    return _PHONE.sub("<phone>", _EMAIL.sub("<e-mail>", text))


# `name` is the module's logger (kabinet.events, kabinet.api, ...); timestamps are UTC, RFC 3339.
logger = Logger(service=SERVICE, name="%(name)s", utc=True, use_rfc3339=True, json_serializer=_serialize)
if logger.name != ROOT_LOGGER:  # another service name: the modules' loggers still write through this handler
    _root = logging.getLogger(ROOT_LOGGER)
    _root.addHandler(logger.registered_handler)
    _root.setLevel(logger.log_level)
    _root.propagate = False

metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
metrics.set_default_dimensions(stage=settings().stage)

_cold = True


def _key() -> bytes:
    return (os.environ.get("KABINET_LOG_USER_KEY") or f"kabinet-{settings().stage}-log-user").encode()


def user_hash(user_id: str) -> str:
    """What logs call `user`: stable per person and stage, and not the id (nor a way back to it)."""
    return hmac.new(_key(), user_id.encode(), hashlib.sha256).hexdigest()[:USER_HASH_DIGITS]


def set_user(user_id: str) -> None:
    """The signed-in person of the current scope (their hash, see `user_hash`)."""
    logger.thread_safe_append_keys(user=user_hash(user_id))


def current(key: str) -> Any:
    """A key of the current scope (e.g. `request_id`), or None."""
    return logger.thread_safe_get_current_keys().get(key)


def count(metric: str, value: int = 1) -> None:
    """Add to a business metric of the current request or invocation (one of METRICS)."""
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=value)


def flush_metrics() -> None:
    """Write what the scope counted as one EMF line (in Lambda only), then start from zero."""
    if not metrics.metric_set:
        return  # nothing counted: no line, and no powertools warning about it
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        metrics.flush_metrics()  # prints unless POWERTOOLS_METRICS_DISABLED
    metrics.clear_metrics()


def lambda_keys(context: Any) -> dict[str, Any]:
    """The keys powertools' `inject_lambda_context` adds, from a Lambda context; none without one (tests, pump)."""
    global _cold
    cold, _cold = _cold, False
    if context is None or not hasattr(context, "aws_request_id"):
        return {}
    return {"function_name": context.function_name, "function_memory_size": context.memory_limit_in_mb,
            "function_arn": context.invoked_function_arn, "function_request_id": context.aws_request_id,
            "cold_start": cold}


@contextlib.contextmanager
def invocation(context: Any, **keys: Any) -> Iterator[None]:
    """The scope of one request or invocation: its keys on every line written meanwhile, its metrics flushed at
    the end. Nested scopes (a schedule run from a local-only route) restore the outer keys when they end."""
    outer = dict(logger.thread_safe_get_current_keys())
    logger.thread_safe_append_keys(**lambda_keys(context), **{k: v for k, v in keys.items() if v is not None})
    try:
        yield
    finally:
        flush_metrics()
        logger.thread_safe_clear_keys()
        if outer:
            logger.thread_safe_append_keys(**outer)


def worker(handler: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a chalice event handler (app.py) registered as `handler`: each invocation is a scope, with the
    Lambda context of chalice's event object (`event.context`) or of a `lambda_function`'s second argument.
    A failure is logged here, with those keys, before Lambda sees it."""
    log = logging.getLogger(f"{ROOT_LOGGER}.worker")

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def run(event: Any, *args: Any) -> Any:
            context = args[0] if args else getattr(event, "context", None)
            with invocation(context, handler=handler):
                try:
                    return fn(event, *args)
                except Exception:
                    log.exception("%s failed", handler)
                    raise

        run.handler_name = handler  # type: ignore[attr-defined]  # tests check it matches the registration
        return run

    return decorate
