"""AWS API calls per API operation over one scripted journey, counted with a botocore `before-call` hook.

moto server on loopback, the real resource template, the real app through chalice's test client. The
first journey runs on a cold "container" (fresh clients and key cache); the table shows a second, warm
journey, and the calls only the cold one made are reported as once-per-container.

Each journey also turns on the authenticator app (not counted) and signs in with it. The app runs on
the real clock and takes a TOTP step only once, so the journey waits (at most 31 s) for the step after
the enrolment code's before it signs in.

Identity (issue 11): the journey's person submits personal data that passes every registry and reads the
identity page; a second person (registered and submitting uncounted) has a passport MVD reports unavailable
(docs/identity.md, number ending 0003). Each registry answer the agency worker handles is counted inside
`chalicelib.identity.checks.handle` (the registry question, its read and its transaction; not the SQS consumer's
claim around it), one row per answer, named by its outcome.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench._common import PASSWORD, REGION, UA_DESKTOP, report, six_digit_code

ENV = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION,
    "KABINET_STAGE": "local", "KABINET_ARGON2": "1,1024,1", "KABINET_REGISTRY_DELAY": "0.01",
    "KABINET_EVENTS_TOPIC_ARN": "arn:aws:sns:eu-central-1:123456789012:kabinet-local-events",
}
Check = Callable[[Counter[str]], bool]
TARGETS: dict[str, tuple[str, Check]] = {
    "register": ("1 TransactWriteItems", lambda c: c == Counter(TransactWriteItems=1)),
    "confirm": ("<= 2 calls", lambda c: c.total() <= 2),
    "login": ("<= 2 calls", lambda c: c.total() <= 2),
    "me": ("1 GetItem", lambda c: c == Counter(GetItem=1)),
    "refresh": ("<= 2 calls", lambda c: c.total() <= 2),
    "login (mfa total)": ("<= 3 in total", lambda c: c.total() <= 3),
    "sessions list": ("1 Query", lambda c: c == Counter(Query=1)),
    "upload request": ("1 TransactWriteItems", lambda c: c == Counter(TransactWriteItems=1)),
    "documents list": ("1 Query", lambda c: c == Counter(Query=1)),
    "document detail": ("GetItem + journal Put", lambda c: c == Counter(GetItem=1, PutItem=1)),
    "download link": ("GetItem + journal Put", lambda c: c == Counter(GetItem=1, PutItem=1)),
    "access journal": ("1 Query", lambda c: c == Counter(Query=1)),
    "submit": ("1 TransactWriteItems", lambda c: c == Counter(TransactWriteItems=1)),
    "requests list": ("1 Query", lambda c: c == Counter(Query=1)),
    "request detail": ("1 Query", lambda c: c == Counter(Query=1)),
    "personal data": ("1 transaction (+ 1 read)", lambda c: c["TransactWriteItems"] == 1 and reads(c) <= 1
                      and c.total() == c["TransactWriteItems"] + reads(c)),
    "identity read": ("1 Query", lambda c: c == Counter(Query=1)),
    "debts list": ("1 Query (+ ГИС ГМП)", lambda c: c == Counter(Query=1)),
    "payment create": ("claim + read + 1 transaction", lambda c: c == Counter(PutItem=1, BatchGetItem=1,
                                                                              TransactWriteItems=1)),
    "payment confirm": ("1 read + 1 transaction", lambda c: c == Counter(BatchGetItem=1, TransactWriteItems=1)),
    "acquirer webhook": ("1 transaction", lambda c: c == Counter(TransactWriteItems=1)),
    "payment history": ("1 Query", lambda c: c == Counter(Query=1)),
    # -- calendar (NT-5): items and the reminder settings in the person's partition --
    "calendar": ("1 Query", lambda c: c == Counter(Query=1)),
    **{f"registry answer: {outcome}": ("<= 1 read + 1 transaction", lambda c: reads(c) <= 1
                                       and c["TransactWriteItems"] <= 1 and c.total() <= 2)
       for outcome in ("passed", "promoted", "unavailable", "failed", "stale")},
    # news (NT-4; docs/news.md)
    "news subscriptions PUT": ("1 TransactWriteItems", lambda c: c == Counter(TransactWriteItems=1)),
    "news subscriptions GET": ("1 Query", lambda c: c == Counter(Query=1)),
    "news archive": ("1 Query", lambda c: c == Counter(Query=1)),
    "news archive by topic": ("1 Query", lambda c: c == Counter(Query=1)),
    "news publication": ("1 GetItem", lambda c: c == Counter(GetItem=1)),
    "notification settings GET": ("1 GetItem", lambda c: c == Counter(GetItem=1)),
    "notification settings PUT": ("1 transaction + 1 GetItem (the answer)", lambda c: c == Counter(
        TransactWriteItems=1, GetItem=1)),
    "notification test": ("1 GetItem + 1 transaction", lambda c: c == Counter(GetItem=1, TransactWriteItems=1)),
    "notice (inbox + 1 SMS)": ("1 account read + 1 transaction, then per SMS: limit, Publish, status", lambda c: (
        c["GetItem"] == 1 and c["TransactWriteItems"] == 1 and c["Publish"] == 1)),
    # -- push devices (NF-3; docs/push.md): SNS calls are counted too --
    "device register": ("alias + cap + endpoint + 1 transaction", lambda c: c == Counter(
        GetItem=1, Query=1, CreatePlatformEndpoint=1, TransactWriteItems=1)),
    "device register again": ("2 GetItem", lambda c: c == Counter(GetItem=2)),
    "devices list": ("1 Query", lambda c: c == Counter(Query=1)),
    "device remove": ("read + 1 transaction + DeleteEndpoint", lambda c: c == Counter(
        GetItem=1, TransactWriteItems=1, DeleteEndpoint=1)),
    # -- single sign-on (issue 15; docs/sso.md) --
    "sso authorize (consent given)": ("<= 2: 1 read + 1 transaction", lambda c: c == Counter(
        BatchGetItem=1, TransactWriteItems=1)),
    "sso authorize (remembered)": ("<= 2: 1 read + 1 transaction", lambda c: c == Counter(
        BatchGetItem=1, TransactWriteItems=1)),
    "sso token": ("<= 2: 1 read + 1 transaction", lambda c: c == Counter(BatchGetItem=1, TransactWriteItems=1)),
    "sso userinfo": ("1 GetItem", lambda c: c == Counter(GetItem=1)),
    "sso refresh": ("<= 2: 1 read + 1 transaction", lambda c: c == Counter(BatchGetItem=1, TransactWriteItems=1)),
}
READS = ("GetItem", "Query", "BatchGetItem", "Scan")
DERIVED = {"login (mfa total)"}  # sums of other rows: left out of the once-per-container diff
TOTP_STEP = 30
MAX_STEP_WAIT = 31.0


class Recorder:
    """Counts API calls by operation name while `counting()` is open, on this thread only."""

    def __init__(self) -> None:
        self.current: Counter[str] | None = None
        self.thread = threading.get_ident()
        self.paused = 0

    def __call__(self, model: Any = None, **_: Any) -> None:
        if self.current is not None and model is not None and threading.get_ident() == self.thread \
                and not self.paused:
            self.current[model.name] += 1

    def outside(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """`fn` stands for the outside world (ГИС ГМП, the acquirer): its simulators keep their state in the same
        moto table, and those calls are theirs, not ours."""
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            self.paused += 1
            try:
                return fn(*args, **kwargs)
            finally:
                self.paused -= 1
        return wrapped

    @contextmanager
    def counting(self) -> Iterator[Counter[str]]:
        self.current = calls = Counter()
        try:
            yield calls
        finally:
            self.current = None


def reads(calls: Counter[str]) -> int:
    return sum(calls[op] for op in READS)


def breakdown(calls: Counter[str]) -> str:
    return ", ".join(f"{n} {op}" for op, n in sorted(calls.items())) or "-"


Row = tuple[str, int, Counter[str]]


def journey(http: Any, pump: Any, recorder: Recorder, phone: str, n: int = 0) -> list[Row]:
    """`n` tells the journeys' people apart where numbers must be unique (SNILS, the INN FNS finds)."""
    rows: list[Row] = []

    def call(method: str, path: str, body: Any = None, token: str | None = None,
             extra: dict[str, str] | None = None) -> Any:
        """`body` as bytes is sent as a PDF (POST /verify); anything else as JSON."""
        pdf = isinstance(body, bytes)
        headers = {"content-type": "application/pdf" if pdf else "application/json", "user-agent": UA_DESKTOP,
                   **(extra or {})}
        if token:
            headers["authorization"] = f"Bearer {token}"
        data = body if pdf else json.dumps(body).encode() if body is not None else b""
        resp = http.request(method, path, headers=headers, body=data)
        resp.json = json.loads(resp.body) if resp.body else None
        return resp

    def op(name: str, method: str, path: str, body: Any = None, token: str | None = None,
           extra: dict[str, str] | None = None) -> Any:
        with recorder.counting() as calls:
            resp = call(method, path, body, token, extra)
        rows.append((name, resp.status_code, calls))
        return resp

    reg = op("register", "POST", "/auth/registrations",
             {"last_name": "Кузнецов", "first_name": "Алексей", "phone": phone})
    rid = reg.json["registration_id"]
    drain(pump)  # not counted: the outbox publisher and notify worker, then the local-only outbox read
    messages = call("GET", f"/dev/outbox?to={phone}").json or []
    code = next((c for m in messages if (c := six_digit_code(m["text"]))), "000000")
    op("confirm", "POST", f"/auth/registrations/{rid}/confirm", {"code": code})
    done = op("complete", "POST", f"/auth/registrations/{rid}/complete",
              {"password": PASSWORD, "password_repeat": PASSWORD}).json or {}
    login = op("login", "POST", "/auth/login", {"login": phone, "password": PASSWORD})
    tokens = login.json if login.status_code == 200 else done  # keep going with the registration's tokens
    op("me", "GET", "/me", token=tokens.get("access_token"))
    fresh = op("refresh", "POST", "/auth/token/refresh", {"refresh_token": tokens.get("refresh_token", "x")})
    access = (fresh.json or {}).get("access_token") if fresh.status_code == 200 else tokens.get("access_token")
    op("login-history", "GET", "/me/login-history", token=access)
    totp = mfa_login(call, op, rows, phone, access)
    documents(call, op, pump, access)
    applications(op, pump, access, phone)
    pages(http, op, rows, recorder, access)
    identity(call, op, rows, pump, recorder, access, phone, n)
    payments(call, op, pump, access, totp, n)
    news(op, pump, access, n)  # news (NT-4)
    push_devices(op, access, n)  # NF-3 (docs/push.md)
    notifications(op, rows, recorder, access)  # NT-1, NT-3 (docs/notifications.md)
    sso(http, rows, recorder, access, n)  # issue 15 (docs/sso.md)
    op("logout", "POST", "/auth/logout", {}, token=access)
    drain(pump)
    return rows


def mfa_login(call: Any, op: Any, rows: list[Row], phone: str, access: str | None) -> tuple[str, float]:
    """Turn on the authenticator app (not counted), then sign in with it: step 1, step 2, their sum;
    then list the sessions with the new session's token."""
    import pyotp

    secret = (call("POST", "/me/mfa/totp", {}, token=access).json or {}).get("secret") or pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    enrolled_at = time.time()
    call("POST", "/me/mfa/totp/confirm", {"code": totp.at(enrolled_at)}, token=access)
    wait_next_step(enrolled_at)
    first = op("login (mfa step 1)", "POST", "/auth/login", {"login": phone, "password": PASSWORD})
    challenge = (first.json or {}).get("challenge_id", "x")
    second = op("login (mfa step 2)", "POST", "/auth/login/mfa",
                {"challenge_id": challenge, "method": "totp", "code": totp.now()})
    (_, s1, c1), (_, s2, c2) = rows[-2:]
    rows.append(("login (mfa total)", max(s1, s2), c1 + c2))
    op("sessions list", "GET", "/me/sessions", token=(second.json or {}).get("access_token", access))
    return secret, time.time()


def documents(call: Any, op: Any, pump: Any, access: str | None) -> None:
    """Upload a PDF through the presigned POST (the POST itself goes to S3, not counted), then every
    documents route, a signed profile extract and both public checks."""
    import requests

    from tests import files

    data = files.pdf()
    start = op("upload request", "POST", "/documents/uploads", {"category": "passport", "filename": "scan.pdf",
                                                                "content_type": "application/pdf",
                                                                "size": len(data)}, token=access).json or {}
    form = start.get("upload") or {}
    if form:
        requests.post(form["url"], data=form["fields"], files={"file": ("scan.pdf", data, "application/pdf")},
                      timeout=10)
    drain(pump)
    doc_id = start.get("document_id", "x")
    op("documents list", "GET", "/documents", token=access)
    op("document detail", "GET", f"/documents/{doc_id}", token=access)
    op("download link", "GET", f"/documents/{doc_id}/download", token=access)
    op("access journal", "GET", f"/documents/{doc_id}/journal", token=access)
    issued = op("profile extract", "POST", "/documents/generate/profile-extract", {}, token=access).json or {}
    extract_id = issued.get("id", "x")
    op("verify by id", "GET", f"/verify/{extract_id}")
    link = call("GET", f"/documents/{extract_id}/download", token=access).json or {}
    op("verify file", "POST", "/verify", requests.get(link["url"], timeout=10).content if "url" in link else b"%PDF-")
    op("delete document", "DELETE", f"/documents/{doc_id}", token=access)


def applications(op: Any, pump: Any, access: str | None, phone: str) -> None:
    """A simplified-tier service with no attachments (the journey's person has only confirmed a phone)."""
    params = {"last_name": "Кузнецов", "first_name": "Алексей", "birth_date": "1985-04-12",
              "oms_policy": "1234567890123456", "specialty": "therapist", "phone": phone}
    submitted = op("submit", "POST", "/requests", {"type": "doctor-appointment", "params": params},
                   token=access).json or {}
    drain(pump)
    op("requests list", "GET", "/requests", token=access)
    op("request detail", "GET", f"/requests/{submitted.get('id', 'x')}", token=access)


def payments(call: Any, op: Any, pump: Any, access: str | None, totp: tuple[str, float], n: int) -> None:
    """Issue 13: a traffic fine found by a typed driving licence, paid by card and confirmed with the
    authenticator app (a step newer than the sign-in's); the acquirer's webhook is posted signed, as the acquirer
    would (the simulator's own page flow and delivery are not ours to count)."""
    import pyotp

    from chalicelib.adapters import acquirer
    from chalicelib.core import clock
    from chalicelib.store import keys

    listed = op("debts list", "GET", f"/payments/debts?driving_licence=99{n:02d}345678", token=access).json or {}
    uin = next((d["uin"] for d in listed.get("items", []) if not d["paying"]), "0" * 20)
    created = op("payment create", "POST", "/payments", {"uins": [uin], "method": "card"}, token=access,
                 extra={"idempotency-key": f"bench-{n}-{time.time_ns()}"}).json or {}
    wait_next_step(totp[1])
    code = pyotp.TOTP(totp[0]).now()
    started = op("payment confirm", "POST", f"/payments/{created.get('id', 'x')}/confirm", {"code": code},
                 token=access).json or {}
    me = call("GET", "/me", token=access).json or {}
    outcome = acquirer.Outcome(started.get("acquirer_ref", "x"), "success", None, created.get("amount", 0),
                               keys.payment_order(me.get("user_id", "x"), created.get("id", "x")), None,
                               clock.iso(clock.now()))
    body = acquirer.encode_event(acquirer.Event(f"bench-{n}", clock.iso(clock.now()), outcome))
    signed = acquirer.sign_webhook(body, timestamp=clock.epoch(), secret=acquirer.webhook_secrets()[0])
    op("acquirer webhook", "POST", acquirer.WEBHOOK_PATH, body, extra={**signed, "content-type": "application/json"})
    drain(pump)
    op("payment history", "GET", "/payments", token=access)
    # -- calendar (NT-5) --
    op("calendar", "GET", "/me/calendar", token=access)


def news(op: Any, pump: Any, access: str | None, n: int) -> None:
    """Issue 14, news (NT-4): subscribe, one publication made through the domain (as `admin`; not counted) and
    fanned out, then the archive, its topic filter and the publication."""
    from chalicelib.news import publications

    op("news subscriptions PUT", "PUT", "/me/news/subscriptions", {"topics": {"taxes": "immediately"}},
       token=access)
    op("news subscriptions GET", "GET", "/me/news/subscriptions", token=access)
    made = publications.publish(publications.ADMIN, f"Новость {n}", "Текст новости для замера.", ["taxes"], None)
    drain(pump)
    op("news archive", "GET", "/news", token=access)
    op("news archive by topic", "GET", "/news?topic=taxes", token=access)
    op("news publication", "GET", f"/news/{made['id']}", token=access)


def notifications(op: Any, rows: list[Row], recorder: Recorder, access: str | None) -> None:
    """Issue 14: the settings read and saved, a test notice, and what the notify worker spends on one event (a
    status change to a person with a phone: the inbox and one SMS). The local stage also writes the message to
    the dev outbox and tells the delivery simulator (2 PutItem that AWS does not make)."""
    from chalicelib.core import clock
    from chalicelib.core.ids import new_id
    from chalicelib.core.tokens import verify_access
    from chalicelib.events import notify_worker

    current = op("notification settings GET", "GET", "/me/notifications/settings", token=access).json or {}
    body = {"types": {t["type"]: {"channels": t["channels"], "frequency": t["frequency"]}
                      for t in current.get("types", []) if not t["locked"]},
            "filters": current.get("filters", {"statuses": [], "categories": []}),
            "quiet_hours": {"enabled": False, "start": "22:00", "end": "08:00"}, "time_zone": "Europe/Moscow"}
    op("notification settings PUT", "PUT", "/me/notifications/settings", body, token=access)
    op("notification test", "POST", "/me/notifications/test", {"type": "system"}, token=access)
    user_id = verify_access(access or "").user_id
    event = {"id": new_id(), "type": "request.status_changed", "at": clock.iso(clock.now()),
             "data": {"user_id": user_id, "request_id": new_id(), "number": "0001-2026-000001",
                      "service_title": "Справка", "service_id": "no-criminal-record", "status": "in_progress",
                      "status_title": "В работе", "text": None}}
    with recorder.counting() as calls:
        notify_worker.process(event)
    rows.append(("notice (inbox + 1 SMS)", 200, calls))


# -- push devices (NF-3; docs/push.md) --
def push_devices(op: Any, access: str | None, n: int) -> None:
    """The mobile app registers its FCM token (twice: it does so on every start), the list, the removal."""
    body = {"platform": "fcm", "token": f"bench-fcm-{n:04d}-{time.time_ns()}" + "x" * 40}
    device = op("device register", "POST", "/me/devices", body, token=access).json or {}
    op("device register again", "POST", "/me/devices", body, token=access)
    op("devices list", "GET", "/me/devices", token=access)
    op("device remove", "DELETE", f"/me/devices/{device.get('id', 'x')}", token=access)


def sso(http: Any, rows: list[Row], recorder: Recorder, access: str | None, n: int) -> None:
    """Issue 15: a system registered (not counted) signs the person in through the authorization page — with the
    consent given, then remembered — redeems the code (client_secret_basic), reads userinfo and refreshes."""
    import base64
    import re
    from urllib.parse import parse_qs, urlencode, urlsplit

    from authlib.oauth2.rfc7636 import create_s256_code_challenge

    from chalicelib.sso import clients

    client_id, redirect, secret = f"bench-rp-{n}", "https://rp.example.gov/cb", "bench-secret-of-the-rp"
    clients.register(client_id, name="Замер", redirect_uris=[redirect], scopes=["openid", "profile",
                     "offline_access"], auth_method="client_secret_basic", secret=secret)
    cookies = {"kabinet-session": access or ""}

    def page(name: str | None, method: str, path: str, form: dict[str, str] | None = None) -> Any:
        headers = {"cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), "user-agent": UA_DESKTOP}
        if form is not None:
            headers["content-type"] = "application/x-www-form-urlencoded"
        body = urlencode({**(form or {}), "csrf": cookies.get("kabinet-csrf", "")}).encode() if form else b""
        with recorder.counting() as calls:
            resp = http.request(method, path, headers=headers, body=body)
        found = re.search(r"kabinet-csrf=([^;]+)", str(resp.headers.get("Set-Cookie", "")))
        cookies.update({"kabinet-csrf": found.group(1)} if found else {})
        if name:
            rows.append((name, resp.status_code, calls))
        return resp

    def code(name: str, verifier: str) -> str:
        query = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect, "state": "s",
                 "scope": "openid profile offline_access", "nonce": "n", "code_challenge_method": "S256",
                 "code_challenge": create_s256_code_challenge(verifier)}
        resp = page(None if name.endswith("(consent given)") else name, "GET", f"/login/authorize?{urlencode(query)}")
        if resp.status_code == 200:  # the consent page; its answer is what is counted
            resp = page(name, "POST", "/login/authorize", {**query, "decision": "allow"})
        return parse_qs(urlsplit(resp.headers.get("Location", "")).query).get("code", ["x"])[0]

    verifier = "v" * 50
    code("sso authorize (consent given)", verifier)
    given = code("sso authorize (remembered)", verifier)
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()

    def token(name: str, form: dict[str, str]) -> dict[str, Any]:
        with recorder.counting() as calls:
            resp = http.request("POST", "/sso/token", body=urlencode(form).encode(), headers={
                "content-type": "application/x-www-form-urlencoded", "authorization": f"Basic {basic}"})
        rows.append((name, resp.status_code, calls))
        return json.loads(resp.body) if resp.body else {}

    issued = token("sso token", {"grant_type": "authorization_code", "code": given, "redirect_uri": redirect,
                                 "code_verifier": verifier})
    with recorder.counting() as calls:
        resp = http.request("GET", "/sso/userinfo", body=b"", headers={
            "authorization": f"Bearer {issued.get('access_token', 'x')}"})
    rows.append(("sso userinfo", resp.status_code, calls))
    token("sso refresh", {"grant_type": "refresh_token", "refresh_token": issued.get("refresh_token", "x")})


def pages(http: Any, op: Any, rows: list[Row], recorder: Recorder, access: str | None) -> None:
    """The web client's pages against the JSON routes with the same data (issue 12: equal calls). The page gets
    the access token as its session cookie (the local cloud's name, no `__Host-`)."""
    headers = {"cookie": f"kabinet-session={access}", "user-agent": UA_DESKTOP}
    for name, path in (("page / (main)", "/"), ("page /applications", "/applications")):
        with recorder.counting() as calls:
            resp = http.request("GET", path, headers=headers, body=b"")
        rows.append((name, resp.status_code, calls))
    op("messages (JSON of the main page)", "GET", "/me/messages", token=access)


def identity(call: Any, op: Any, rows: list[Row], pump: Any, recorder: Recorder, access: str | None, phone: str,
             n: int) -> None:
    """PUT /me/personal-data and GET /me/identity (counted), and every registry answer the worker handles
    meanwhile (counted inside checks.handle): the journey's person passes everywhere; a second person's MVD
    is unavailable (their own submission and registration are not counted)."""
    from chalicelib.identity import checks

    def data(series: str, number: str, snils: str) -> dict[str, Any]:
        return {"last_name": "Кузнецов", "first_name": "Алексей", "middle_name": "Петрович",
                "birth_date": "1985-04-12", "sex": "male", "birth_place": "г. Москва",
                "passport": {"series": series, "number": number, "issued_at": "2005-06-01",
                             "issued_by": "ОВД района Арбат г. Москвы", "division_code": "770-001"},
                "snils": snils_with(snils), "address": "г. Москва, ул. Тверская, д. 1, кв. 1"}

    answers: list[Row] = []
    real = checks.handle

    def counted(event: dict[str, Any]) -> str:
        with recorder.counting() as calls:
            outcome = real(event)
        answers.append((f"registry answer: {outcome}", 0, calls))
        return outcome

    checks.handle = counted  # the agency worker calls checks.handle through the module
    try:
        op("personal data", "PUT", "/me/personal-data", data(f"46{n:02d}", "123456", f"12345{n}777"), token=access)
        drain(pump)
        op("identity read", "GET", "/me/identity", token=access)
        other = phone[:-2] + f"{(int(phone[-2:]) + 50) % 100:02d}"
        tokens = register_uncounted(call, pump, other)
        call("PUT", "/me/personal-data", data(f"47{n:02d}", "120003", f"22345{n}777"), tokens.get("access_token"))
        drain(pump)
    finally:
        checks.handle = real
    rows.extend(sorted(answers, key=lambda row: row[0]))  # the order answers arrive in varies


def snils_with(first_nine: str) -> str:
    """A SNILS whose check number holds (weights 9..1, sum mod 101; 100 and 101 give 00)."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(9, 0, -1), strict=True))
    return first_nine + f"{(total if total < 100 else 0 if total in (100, 101) else total % 101) % 100:02d}"


def register_uncounted(call: Any, pump: Any, phone: str) -> dict[str, Any]:
    reg = call("POST", "/auth/registrations", {"last_name": "Кузнецов", "first_name": "Алексей", "phone": phone})
    rid = (reg.json or {}).get("registration_id", "x")
    drain(pump)
    messages = call("GET", f"/dev/outbox?to={phone}").json or []
    code = next((c for m in messages if (c := six_digit_code(m["text"]))), "000000")
    call("POST", f"/auth/registrations/{rid}/confirm", {"code": code})
    return call("POST", f"/auth/registrations/{rid}/complete",
                {"password": PASSWORD, "password_repeat": PASSWORD}).json or {}


def wait_next_step(since: float) -> None:
    """Sleep until the TOTP step after the one `since` falls in (the app accepts each step once)."""
    step = int(since) // TOTP_STEP
    deadline = time.monotonic() + MAX_STEP_WAIT
    while int(time.time()) // TOTP_STEP == step and time.monotonic() < deadline:
        time.sleep(min(0.25, max(0.0, (step + 1) * TOTP_STEP - time.time()) + 0.01))


def drain(pump: Any) -> None:
    with contextlib.redirect_stderr(io.StringIO()):  # the local SMS echo; /dev/outbox has the text
        pump.drain()


def run() -> dict[str, str]:
    os.environ.update(ENV)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto server's request log
    import boto3
    from moto.server import ThreadedMotoServer

    from infra import moto_fixes

    moto_fixes.apply()

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        os.environ["AWS_ENDPOINT_URL"] = f"http://{host}:{port}"
        recorder = Recorder()
        boto3.setup_default_session()  # every client made from here on copies this session's handlers
        assert boto3.DEFAULT_SESSION is not None
        boto3.DEFAULT_SESSION.events.register("before-call.*.*", recorder)

        from chalice.test import Client

        from app import app
        from chalicelib.adapters import signer
        from chalicelib.core import aws, tokens
        from chalicelib.core.config import settings
        from infra import bootstrap
        from infra.pump import Pump

        outputs = bootstrap.provision("local", REGION, settings().sender_email)
        aws.client.cache_clear()
        tokens._keys.cache_clear()  # a cold container: no clients, no signing keys yet
        signer.identity.cache_clear()
        pump = Pump(app, REGION, outputs["TableName"])
        from chalicelib.adapters import acquirer, gisgmp

        for module, names in ((gisgmp, ("search", "charge", "report_payment")),
                              (acquirer, ("start", "status", "refund"))):
            for fn_name in names:
                setattr(module, fn_name, recorder.outside(getattr(module, fn_name)))
        with Client(app, stage_name="local") as client:
            cold = journey(client.http, pump, recorder, "+79161234567", 0)
            warm = journey(client.http, pump, recorder, "+79161234568", 1)
    finally:
        server.stop()
    return _print(cold, warm)


def _print(cold: list[Row], warm: list[Row]) -> dict[str, str]:
    print("== AWS calls per API operation (warm container; moto server, chalice test client) ==")
    print(f"  {'operation':<28} {'status':>6} {'calls':>5}  {'breakdown':<46} {'target':<26} verdict")
    verdicts = []
    for name, status, calls in warm:
        target, check = TARGETS.get(name, ("-", lambda _: True))
        verdict = ("ok" if check(calls) else "OVER") if name in TARGETS else ""
        if verdict:
            verdicts.append(f"{name} {calls.total()} ({verdict})")
        shown = str(status) if status else "-"  # a worker's handler has no HTTP status
        print(f"  {name:<28} {shown:>6} {calls.total():>5}  {breakdown(calls):<46} {target:<26} {verdict}".rstrip())
    once = [(name, calls - w) for (name, _, calls), (_, _, w) in zip(cold, warm, strict=True)
            if calls - w and name not in DERIVED]
    print("  once per container (calls the cold journey made on top of the warm one):")
    for name, extra in once:
        print(f"    {name}: +{breakdown(extra)}")
    if not once:
        print("    none")
    odd = [f"{name} {status}" for name, status, _ in cold + warm if status >= 400]
    if odd:
        print(f"  unexpected statuses: {', '.join(odd)}")
    extra_text = "; ".join(f"{n} +{breakdown(e)}" for n, e in once) or "none"
    return {"aws calls": ", ".join(verdicts) + f"; once per container: {extra_text}"}


if __name__ == "__main__":
    report(run())
