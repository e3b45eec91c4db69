"""A second person's view of every route that lists or shows one's own items (issue 16, "fill the gaps"): the first
person, Анна, makes at least one item of every kind; on every such GET route — the API and the web pages — her view
shows them (so the marker means something) and Борис's shows none of them; every route that reads one of her items
by its id answers him 404 (for the agency's side: an officer of her application's agency, and one of another).
Every other GET route without a path parameter is read by Борис too, and shows nothing of hers.
`test_every_get_route_is_checked_here_or_said_why_not` reads the app's routes, so a new GET route fails until it is
put in SHOWS, BY_ID or NOT_OWNED (with the reason).

tests/test_isolation.py (the profile, the login history's rows, cursors, refresh tokens) is not repeated here.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from pypdf import PdfReader

from app import app
from chalicelib.adapters import esign_trust
from chalicelib.api.http import ROUTES
from chalicelib.identity.passkeys import relying_party
from chalicelib.store import keys, table
from infra import esign_ca
from infra.seed import add_officer
from tests import files
from tests.conftest import PASSWORD, UA_DESKTOP
from tests.sso_support import Browser as SsoBrowser
from tests.test_passkeys import Authenticator, enrol
from tests.test_payments import card_flow
from tests.test_sso import SECRET, authorize, register_basic, rp

ANNA, BORIS = "+79161234567", "+79167654321"
ANNA_SNILS, ANNA_INN = "15623487172", "770708312392"  # not the demo SNILS, which the forms quote as an example
BORIS_SNILS, BORIS_INN = "98765432183", "770708345687"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.1 Mobile/15E148 Safari/604.1")
NCR = {"last_name": "Кузнецова", "first_name": "Анна", "birth_date": "1985-04-12", "birth_place": "г. Москва",
       "snils": ANNA_SNILS, "purpose": "employment", "address": "г. Москва, ул. Тверская, д. 1, кв. 1"}
TAX_DEBT = {"kind": "tax_debt", "last_name": "Кузнецова", "first_name": "Анна", "inn": ANNA_INN,
            "as_of": "2026-11-01", "variant": "balance"}
APNS = "a1b2c3d4" * 8
ACCEPT_HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@dataclass
class Person:
    """A signed-in person (or officer): the API's bearer token and the web client's session cookie both."""

    api: Any
    access: str
    refresh: str = ""
    user_id: str = ""

    def get(self, path: str) -> Any:
        headers = {"authorization": f"Bearer {self.access}", "user-agent": UA_DESKTOP, "accept": ACCEPT_HTML,
                   "cookie": f"kabinet-session={self.access}; kabinet-refresh={self.refresh}"}
        return self.api.client.http.request("GET", path, headers=headers, body=b"")


def text_of(resp: Any) -> str:
    """What a person reads in an answer: JSON, HTML, CSV, iCalendar as text; a PDF's text; an XLSX's cells."""
    kind = resp.headers.get("Content-Type", "")
    body = resp.body if isinstance(resp.body, bytes) else resp.body.encode()
    if kind.startswith("application/pdf"):
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    if "spreadsheetml" in kind:
        with zipfile.ZipFile(io.BytesIO(body)) as book:
            return "\n".join(book.read(n).decode() for n in book.namelist() if n.endswith(".xml"))
    return body.decode("utf-8", "replace")


def citizen(api: Any, phone: str, snils: str, inn: str, first_name: str, last_name: str) -> Person:
    """Registered through the API; identity confirmed (ID-6) with the profile data that brings (as test_applications
    does), so debts by INN, e-signature and applications all apply."""
    reg = api.register(phone=phone, last_name=last_name, first_name=first_name)
    table.update(keys.user(reg["user_id"]), "SET tier = :t, birth_date = :b, snils = :s, inn = :i, address = :a",
                 values={":t": "confirmed", ":b": "1985-04-12", ":s": snils, ":i": inn,
                         ":a": "г. Москва, ул. Тверская, д. 1, кв. 1"})
    tokens = api.login(phone)
    return Person(api, tokens["access_token"], tokens["refresh_token"], reg["user_id"])


def officer(api: Any, agency: str, phone: str) -> Person:
    assert add_officer(agency=agency, last_name="Петров", first_name="Сергей", department="Информационный центр",
                       phone=phone, password=PASSWORD)
    tokens = api.login(phone)
    return Person(api, tokens["access_token"], tokens["refresh_token"])


@dataclass
class World:
    anna: Person
    boris: Person
    clerk: Person  # an officer of the agency Анна's application went to
    elsewhere: Person  # an officer of another agency
    ids: dict[str, str] = field(default_factory=dict)


def build(api: Any) -> World:
    """Анна makes one item (or more) of every kind a route lists; Борис and the officers exist."""
    anna = citizen(api, ANNA, ANNA_SNILS, ANNA_INN, "Анна", "Кузнецова")
    boris = citizen(api, BORIS, BORIS_SNILS, BORIS_INN, "Борис", "Смирнов")
    api.no_quiet_hours(anna.access)
    ids: dict[str, str] = {"user_id": anna.user_id, "snils": ANNA_SNILS, "inn": ANNA_INN}
    # a second session, from an iPhone: a session, a login-history row (its device and OS)
    phone_login = api.post("/auth/login", {"login": ANNA, "password": PASSWORD}, headers={"user-agent": IPHONE})
    assert phone_login.status_code == 200, phone_login.json
    ids["session"] = phone_login.json["refresh_token"].split(".")[1]
    history = api.get("/me/login-history", token=anna.access).json["items"]
    ids["login_event"] = history[0]["id"]
    ids["consent"] = api.get("/me/consents", token=anna.access).json["items"][0]["id"]
    # documents: one of her own, with a validity date (a calendar item too)
    ids["document"] = api.upload(anna.access, files.pdf("Diplom Anny"), filename="diplom.pdf", category="other",
                                 valid_until="2030-05-01")
    # applications: one routed to the МВД, one automatic certificate (its result is a document), a template
    passport = api.upload(anna.access, files.pdf(), category="passport")
    ncr = api.post("/requests", {"type": "no-criminal-record", "params": NCR, "attachments": [passport]},
                   token=anna.access)
    assert ncr.status_code == 201, ncr.json
    ids["request"], ids["request_number"], ids["attachment"] = ncr.json["id"], ncr.json["number"], passport
    certificate = api.post("/requests", {"type": "certificate", "params": TAX_DEBT}, token=anna.access)
    assert certificate.status_code == 201, certificate.json
    ids["certificate_request"] = certificate.json["id"]
    template = api.post(f"/requests/{ids['request']}/template", {"name": "Справка Анны для работы"},
                        token=anna.access)
    assert template.status_code == 201, template.json
    ids["template"] = template.json["id"]
    api.pump.drain()
    ids["message"] = api.get("/me/messages", token=anna.access).json["items"][0]["id"]
    # payments: a fine found by her SNILS, paid by card and the card saved; her taxes are found by her INN
    debts = api.get("/payments/debts", token=anna.access).json["items"]
    fine = next(d for d in debts if d["kind"] == "fine")
    ids["tax_uin"] = next(d["uin"] for d in debts if d["kind"] == "tax")
    created = api.post("/payments", {"uins": [fine["uin"]], "method": "card", "save_card": True}, token=anna.access,
                       headers={"Idempotency-Key": str(uuid.uuid4())})
    assert created.status_code == 201, created.json
    ids["payment"], ids["fine_uin"] = created.json["id"], fine["uin"]
    code = api.code_about(ANNA, "Код для оплаты")
    started = api.post(f"/payments/{ids['payment']}/confirm", {"code": code}, token=anna.access)
    assert started.status_code == 200, started.json
    card_flow(api, started.json["redirect_url"], save=True)
    ids["card"] = api.get("/me/cards", token=anna.access).json["items"][0]["id"]
    # a push device, a bound e-signature certificate
    device = api.post("/me/devices", {"platform": "apns", "token": APNS, "name": "iPhone Анны"}, token=anna.access)
    assert device.status_code == 201, device.json
    ids["device"] = device.json["id"]
    esign_trust.trust_list.cache_clear()
    issued = esign_ca.issue(esign_ca.load_ca(), last_name="Кузнецова", first_name="Анна", middle_name=None,
                            snils=ANNA_SNILS, inn=ANNA_INN)
    assert api.post("/me/esign/certificates", {"certificate": issued.cert_pem}, token=anna.access).status_code == 202
    bound = api.post("/me/esign/certificates/confirm",
                     {"code": api.code_about(ANNA, "сертификата электронной подписи")}, token=anna.access)
    assert bound.status_code == 200, bound.json
    ids["esign_serial"] = bound.json["certificate"]["serial"]
    # a system she signed into (single sign-on): its consent, on /security/systems
    register_basic("rp-anna")
    provider = api.get("/.well-known/openid-configuration").json
    browser = SsoBrowser(api, ANNA, register=False)
    authorize(browser, rp(api, "rp-anna", client_secret=SECRET), provider)
    # last, a passkey (from now on her sign-ins ask for it)
    ids["passkey"] = enrol(api, anna.access, Authenticator(*relying_party()), name="Ключ Анны")["id"]
    api.pump.drain()
    return World(anna, boris, officer(api, "mvd", "+79991110001"), officer(api, "fns", "+79991110003"), ids)




# -- what each GET route is, and what is checked on it ----------------------------------------------------------

@dataclass(frozen=True)
class Shows:
    """A view of the caller's own items: Анна's view holds every marker (keys of World.ids; "=…" a literal text),
    Борис's holds nothing of hers. `side="agency"`: the officer of her application's agency, then one of another."""

    markers: tuple[str, ...]
    path: str = ""  # a concrete path, when the route has parameters or needs a query
    side: str = "citizen"


@dataclass(frozen=True)
class ById:
    """One of Анна's items read by its id: she gets `owner_status`, Борис 404."""

    path: str  # "{key}" filled from World.ids
    owner_status: int = 200
    side: str = "citizen"


CALENDAR = ("document", "request", "esign_serial")  # her document's validity, application's deadline, certificate
SHOWS: dict[str, Shows] = {
    # API
    "/requests": Shows(("request", "certificate_request")),
    "/me/templates": Shows(("template",)),
    "/services/{service_id}/prefill": Shows(("snils",), "/services/no-criminal-record/prefill"),
    "/me/consents": Shows(("consent", "=Тестовая система")),
    "/documents": Shows(("document", "attachment")),
    "/me/esign/certificates": Shows(("esign_serial",)),
    "/me/messages": Shows(("message",)),
    "/me/passkeys": Shows(("passkey",)),
    "/payments/debts": Shows(("tax_uin", "fine_uin")),  # found by her INN and SNILS
    "/payments/debts.csv": Shows(("tax_uin", "fine_uin")),
    "/payments/debts.pdf": Shows(("fine_uin",)),
    "/payments": Shows(("payment",)),
    "/payments/history.csv": Shows(("payment", "fine_uin")),
    "/payments/history.xlsx": Shows(("payment", "fine_uin")),
    "/payments/history.pdf": Shows(("fine_uin",)),
    "/me/cards": Shows(("card",)),
    "/me/sessions": Shows(("session",)),
    "/me/login-history.csv": Shows(("=iOS",)),  # her second sign-in came from an iPhone
    "/me/calendar": Shows(CALENDAR),
    "/me/calendar.csv": Shows(CALENDAR),
    "/me/calendar.ics": Shows(CALENDAR),
    "/me/devices": Shows(("device",)),
    "/agency/requests": Shows(("request",), side="agency"),
    # web pages
    "/": Shows(("=Кузнецова",)),
    "/security/sessions": Shows(("session",)),
    "/security/login-history": Shows(("login_event",)),
    "/security/login-history.csv": Shows(("=iOS",)),
    "/profile/consents": Shows(("=Тестовая система", "request_number")),
    "/security/passkeys": Shows(("passkey",)),
    "/my-documents": Shows(("document", "attachment")),
    "/inbox": Shows(("message",)),
    "/catalog/{service_id}/apply": Shows(("snils",), "/catalog/no-criminal-record/apply"),
    "/applications": Shows(("request", "certificate_request")),
    "/pay": Shows(("tax_uin", "fine_uin", "card")),
    "/pay/history": Shows(("payment",)),
    "/pay/history.csv": Shows(("payment", "fine_uin")),
    "/pay/history.xlsx": Shows(("payment", "fine_uin")),
    "/pay/history.pdf": Shows(("fine_uin",)),
    "/pay/debts.csv": Shows(("tax_uin", "fine_uin")),
    "/pay/debts.pdf": Shows(("fine_uin",)),
    "/pay/cards": Shows(("card",)),
    "/calendar": Shows(CALENDAR),
    "/calendar/export.csv": Shows(CALENDAR),
    "/calendar/export.ics": Shows(CALENDAR),
    "/security/devices": Shows(("device",)),
    "/security/systems": Shows(("=Тестовая система",)),  # the system she signed into
    "/officer": Shows(("request",), side="agency"),
}
BY_ID: dict[str, ById] = {
    "/requests/{request_id}": ById("/requests/{request}"),
    "/requests/{request_id}/journal.pdf": ById("/requests/{request}/journal.pdf"),
    "/requests/{request_id}/signature-content": ById("/requests/{request}/signature-content"),
    "/documents/{document_id}": ById("/documents/{document}"),
    "/documents/{document_id}/download": ById("/documents/{document}/download"),
    "/documents/{document_id}/journal": ById("/documents/{document}/journal"),
    "/payments/{payment_id}": ById("/payments/{payment}"),
    "/agency/requests/{request_id}": ById("/agency/requests/{request}", side="agency"),
    "/agency/requests/{request_id}/attachments/{document_id}":
        ById("/agency/requests/{request}/attachments/{attachment}", side="agency"),
    "/my-documents/{document_id}": ById("/my-documents/{document}"),
    "/my-documents/{document_id}/download": ById("/my-documents/{document}/download", 303),
    "/my-documents/{document_id}/replace": ById("/my-documents/{document}/replace"),
    "/my-documents/{document_id}/delete": ById("/my-documents/{document}/delete"),
    "/applications/{request_id}": ById("/applications/{request}"),
    "/applications/{request_id}/result": ById("/applications/{certificate_request}/result", 303),  # to the file
    "/applications/{request_id}/journal.pdf": ById("/applications/{request}/journal.pdf"),
    "/pay/{payment_id}": ById("/pay/{payment}"),
    "/officer/requests/{request_id}": ById("/officer/requests/{request}", side="agency"),
    "/officer/requests/{request_id}/attachments/{document_id}":
        ById("/officer/requests/{request}/attachments/{attachment}", 303, side="agency"),
}
ONE_RECORD = "the caller's own single record or settings, not a list of items"
PUBLIC = "public, the same for everyone"
FLOW = "a step of signing in, registering, recovering or single sign-on, before or outside an account's items"
FORM = "a form that lists nothing"
ROLE = "another role's shared space (operators, editors): no citizen's own items"
LOCAL = "the local cloud's simulators (stage local only)"
NOT_OWNED: dict[str, str] = {
    "/me": "tests/test_isolation.py::test_second_user_sees_only_their_own_profile_and_history",
    "/me/login-history": "tests/test_isolation.py (its rows and cursors)",
    "/me/identity": ONE_RECORD, "/me/identity/channels": ONE_RECORD, "/me/security": ONE_RECORD,
    "/me/security-questions": ONE_RECORD, "/me/notifications/settings": ONE_RECORD,
    "/me/news/subscriptions": ONE_RECORD, "/me/calendar/settings": ONE_RECORD, "/profile": ONE_RECORD,
    "/profile/personal-data": ONE_RECORD, "/security": ONE_RECORD, "/notifications/settings": ONE_RECORD,
    "/portal-news/subscriptions": ONE_RECORD,
    "/security/backup-codes": FORM, "/security/totp/disable": FORM, "/security/sms": FORM,
    "/security/ip-allowlist": FORM, "/security/contacts/{kind}": FORM, "/my-documents/new": FORM,
    "/profile/letter/code": FORM,
    "/security/login-history/{event_id}/not-me": "a confirmation form that reads nothing; its POST reads the row "
                                                 "under the caller's own account (404 for another's)",
    "/my-documents/{document_id}/uploaded": "S3's redirect target: reads nothing, sends the browser on to "
                                            "/my-documents/{document_id} (checked in BY_ID)",
    "/ical/{token}": "the private feed: its unguessable token is the credential (tests/test_calendar.py)",
    "/pay/fines/{uin}/dispute": "a fine by its УИН, which anyone may look up (docs/gisgmp.md); checked below that "
                                "it carries none of her marks",
    "/services": PUBLIC, "/services/suggest": PUBLIC, "/services/categories": PUBLIC,
    "/services/{service_id}": PUBLIC, "/documents/categories": PUBLIC, "/verify/{document_id}": PUBLIC,
    "/openapi.json": PUBLIC, "/.well-known/jwks.json": PUBLIC, "/.well-known/openid-configuration": PUBLIC,
    "/news": PUBLIC + " signed-in person: the portal's news archive",
    "/news/{publication_id}": PUBLIC + " signed-in person: one publication",
    "/portal-news": PUBLIC + " signed-in person: the news archive page",
    "/portal-news/{publication_id}": PUBLIC + " signed-in person: one publication",
    "/catalog": PUBLIC, "/catalog/{service_id}": PUBLIC, "/check": PUBLIC, "/check/{document_id}": PUBLIC,
    "/static/{name}": PUBLIC,
    "/operator/people": ROLE, "/operator/unblock-cases": ROLE, "/mfc": ROLE, "/newsroom": ROLE,
    "/sso/userinfo": "the claims of an SSO access token, for the relying party (tests/test_sso.py)",
    "/unsubscribe": "a signed link from an e-mail is the credential (tests/test_notifications.py)",
    "/register": FLOW, "/register/{registration_id}/code": FLOW, "/register/{registration_id}/password": FLOW,
    "/login": FLOW, "/login/second-factor": FLOW, "/login/new-password": FLOW, "/login/passkey": FLOW,
    "/recovery": FLOW, "/recovery/{recovery_id}/code": FLOW, "/recovery/{recovery_id}/password": FLOW,
    "/identity/bank/callback": FLOW, "/login/authorize": FLOW, "/login/step-up": FLOW, "/logout/end-session": FLOW,
    "/dev/outbox": LOCAL, "/dev/letters": LOCAL, "/dev/letters/{letter_id}/pdf": LOCAL,
    "/dev/acquirer/style.css": LOCAL, "/dev/acquirer/pay/{ref}": LOCAL, "/dev/bank/{bank_id}/authorize": LOCAL,
}


def get_routes() -> set[str]:
    """Every GET route of the app: the API's (api/http.py ROUTES) and the web pages' (chalice's own table)."""
    return {r.path for r in ROUTES if r.method == "GET"} | {p for p, views in app.routes.items() if "GET" in views}


def test_every_get_route_is_checked_here_or_said_why_not():
    named = [*SHOWS, *BY_ID, *NOT_OWNED]
    assert len(named) == len(set(named)), "a route is named twice"
    assert set(named) == get_routes()


def _hers(w: World) -> dict[str, str]:
    """Everything that would give away one of Анна's items or her data."""
    return {**w.ids, "=Кузнецова": "Кузнецова"}


def _value(w: World, marker: str) -> str:
    return marker[1:] if marker.startswith("=") else w.ids[marker]


def test_a_second_person_sees_none_of_the_first_ones_items(api):
    w = build(api)
    sides = {"citizen": (w.anna, w.boris), "agency": (w.clerk, w.elsewhere)}
    hers = _hers(w)
    problems: list[str] = []
    for route, view in SHOWS.items():
        owner, other = sides[view.side]
        path = view.path or route
        mine, theirs = owner.get(path), other.get(path)
        if mine.status_code != 200 or theirs.status_code != 200:
            problems.append(f"{path}: {mine.status_code} for her side, {theirs.status_code} for the other")
            continue
        missing = [m for m in view.markers if _value(w, m) not in text_of(mine)]
        if missing:  # the markers must mean something
            problems.append(f"{path}: her view lacks {missing}")
        leaked = [k for k, v in hers.items() if v in text_of(theirs)]
        if leaked:
            problems.append(f"{path}: the other's view shows her {leaked}")
    for route, read in BY_ID.items():
        owner, other = sides[read.side]
        path = read.path.format(**w.ids)
        got = (owner.get(path).status_code, other.get(path).status_code)
        if got != (read.owner_status, 404):
            problems.append(f"{route}: {got}, expected ({read.owner_status}, 404)")
    swept = [r for r in NOT_OWNED if "{" not in r and not r.startswith("/dev/")]  # the simulators show everyone's
    for route in swept:
        leaked = [k for k, v in hers.items() if v in text_of(w.boris.get(route))]
        if leaked:
            problems.append(f"{route}: Борис's view shows her {leaked}")
    assert problems == []
    _her_paid_fine_looked_up_by_another(api, w)


def _her_paid_fine_looked_up_by_another(api: Any, w: World) -> None:
    """A УИН anyone may type (docs/gisgmp.md): Борис finds the charge, but none of Kabinet's marks of hers
    (her payment, that it is being paid); nor does the fine's dispute page."""
    uin = w.ids["fine_uin"]
    mine = api.get(f"/payments/debts?{urlencode({'uin': uin})}", token=w.anna.access).json["items"]
    paid = [d for d in mine if d["uin"] == uin]  # her INN and SNILS find her other debts too
    assert [(d["status"], d["payment_id"]) for d in paid] == [("closed", w.ids["payment"])]
    found = api.get(f"/payments/debts?{urlencode({'uin': uin})}", token=w.boris.access)
    item = [d for d in found.json["items"] if d["uin"] == uin]  # beside his own INN's and SNILS's debts
    assert len(item) == 1 and "payment_id" not in item[0] and item[0]["paying"] is False, item
    assert w.ids["payment"] not in text_of(found)
    page = w.boris.get(f"/pay/fines/{uin}/dispute")
    assert page.status_code == 200 and uin in text_of(page) and w.ids["payment"] not in text_of(page)
