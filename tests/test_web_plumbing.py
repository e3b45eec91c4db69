"""The web client's plumbing in-process (chalice's test gateway on moto): cookies, CSRF, redirects, headers, the
language, and that pages and API routes never share a path. The journeys in a real browser are test_browser_*.py."""

from __future__ import annotations

import re
import urllib.parse

import pytest

from chalicelib.api.http import ROUTES
from chalicelib.core import i18n
from chalicelib.web import pages
from tests.conftest import PASSWORD

FORM = "application/x-www-form-urlencoded"


def _get(api, path, cookies=None, headers=None):
    h = {"cookie": "; ".join(f"{k}={v}" for k, v in (cookies or {}).items()), **(headers or {})}
    return api.client.http.request("GET", path, headers=h)


def _post(api, path, form, cookies=None):
    h = {"content-type": FORM, "cookie": "; ".join(f"{k}={v}" for k, v in (cookies or {}).items())}
    return api.client.http.request("POST", path, headers=h, body=urllib.parse.urlencode(form).encode())


def _set_cookies(resp) -> dict[str, str]:
    raw = resp.headers.get("Set-Cookie") or resp.headers.get("set-cookie") or []
    values = raw if isinstance(raw, list) else [raw]
    return {v.split("=", 1)[0]: v for v in values}


def _csrf(api) -> tuple[str, dict[str, str]]:
    page = _get(api, "/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.body.decode()).group(1)
    return token, {"kabinet-csrf": token}


def test_pages_and_api_routes_never_share_a_path():
    api_first = {r.path.split("/")[1] for r in ROUTES}
    page_first = {p.split("/")[1] for p, _ in pages.PAGES if p != "/"}
    assert api_first & page_first == set(), api_first & page_first
    assert ("/", ("GET",)) in pages.PAGES


@pytest.mark.parametrize(("header", "chosen", "expected"), [
    (None, None, "ru"), ("en-GB,en;q=0.9", None, "en"), ("de-DE,de;q=0.9,en;q=0.5", None, "en"),
    ("ru-RU,ru;q=0.9,en;q=0.8", None, "ru"), ("en;q=0.2,ru;q=0.9", None, "ru"), ("en", "ru", "ru"),
    ("fr", None, "ru"), ("en;q=x", None, "ru"), ("ru", "en", "en"), ("en", "xx", "en"),
])
def test_the_language_is_the_chosen_one_then_accept_language_then_russian(header, chosen, expected):
    assert i18n.negotiate(header, chosen) == expected


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/\\evil.example", "evil",
                                    "/ok\r\nSet-Cookie: x=1", ""])
def test_next_never_leaves_the_site(target):
    assert pages.safe_next(target) == "/"


def test_next_keeps_our_own_paths():
    assert pages.safe_next("/applications?status=submitted") == "/applications?status=submitted"


def test_a_page_without_a_session_sends_the_visitor_to_sign_in_and_back(api):
    resp = _get(api, "/?x=1")
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/login?" + urllib.parse.urlencode({"next": "/?x=1"})


def test_a_form_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing(api):
    api.register()
    token, cookies = _csrf(api)
    for form, jar in (({"login": "+79161234567", "password": PASSWORD}, cookies),
                      ({"login": "+79161234567", "password": PASSWORD, "csrf": "x" * 43}, cookies),
                      ({"login": "+79161234567", "password": PASSWORD, "csrf": token}, {})):
        resp = _post(api, "/login", form, jar)
        assert resp.status_code == 403, resp.body[:200]
        assert "kabinet-session" not in _set_cookies(resp)
    ok = _post(api, "/login", {"login": "+79161234567", "password": PASSWORD, "csrf": token}, cookies)
    assert ok.status_code == 303 and ok.headers["Location"] == "/"


def test_signing_in_sets_httponly_lax_cookies_and_opens_a_session_the_api_lists(api):
    person = api.register()
    token, cookies = _csrf(api)
    resp = _post(api, "/login", {"login": "+79161234567", "password": PASSWORD, "csrf": token, "next": "/"}, cookies)
    jar = _set_cookies(resp)
    for name in ("kabinet-session", "kabinet-refresh"):
        assert "HttpOnly" in jar[name] and "SameSite=Lax" in jar[name] and "Path=/" in jar[name], jar[name]
    sessions = api.get("/me/sessions", token=person["access_token"]).json["items"]
    assert len(sessions) == 2, sessions  # the registration's and the web sign-in's


def test_outside_the_local_cloud_cookies_are_host_prefixed_and_secure(monkeypatch):
    monkeypatch.setattr(pages, "_secure", lambda: True)
    cookie = pages.set_cookie(pages.SESSION, "v")
    assert cookie.startswith("__Host-kabinet-session=v;") and "; Secure" in cookie and "Domain" not in cookie


def test_an_expired_access_cookie_is_renewed_with_the_refresh_cookie(api, fake_clock):
    api.register()
    token, cookies = _csrf(api)
    resp = _post(api, "/login", {"login": "+79161234567", "password": PASSWORD, "csrf": token}, cookies)
    jar = {k: v.split(";")[0].split("=", 1)[1] for k, v in _set_cookies(resp).items()}
    fake_clock.advance(700)  # past the access token (10 minutes), within the idle limit
    page = _get(api, "/", {**cookies, **jar})
    assert page.status_code == 200, page.headers
    renewed = _set_cookies(page)
    assert "kabinet-session" in renewed and "kabinet-refresh" in renewed


def test_every_page_carries_the_security_headers(api):
    resp = _get(api, "/login")
    csp = resp.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert f'nonce="{nonce}"' in resp.body.decode()
    assert "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "no-store"
    assert _get(api, "/login").headers["Content-Security-Policy"] != csp, "a new nonce per response"


def test_a_broken_form_gets_a_page_not_a_500(api):
    token, _ = _csrf(api)
    h = {"content-type": FORM, "cookie": f"kabinet-csrf={token}"}
    for body in (b"\xff\xfe=1", b"csrf=" + token.encode() + b"&login=%00", b"a=" + b"x" * 70_000):
        resp = api.client.http.request("POST", "/login", headers=h, body=body)
        assert resp.status_code in (400, 403, 413) and resp.headers["Content-Type"].startswith("text/html"), \
            (resp.status_code, resp.body[:200])


def test_the_api_speaks_english_when_asked(api):
    ru = api.post("/auth/login", {"login": "+79990000000", "password": "x"})
    en = api.post("/auth/login", {"login": "+79990000000", "password": "x"}, headers={"accept-language": "en"})
    assert ru.json["error"]["message"] == "Неверный логин или пароль"
    assert en.json["error"]["message"] == "Invalid login or password"
    assert en.json["error"]["code"] == ru.json["error"]["code"] == "INVALID_CREDENTIALS"


def test_formatted_and_listed_refusals_reach_english_speakers_translated(api):
    """Refusals built with f-strings and field lists (the catalog's templates), not only fixed messages."""
    en = {"accept-language": "en"}
    catalog = api.get("/services?sort=best&category=toys&page_size=500", headers=en)
    assert catalog.status_code == 400, catalog.json
    fields = catalog.json["error"]["fields"]
    assert fields and not any(re.search("[а-яё]", str(v), re.I) for v in fields.values()), fields
    assert any("Allowed" in str(v) or "allowed" in str(v) for v in fields.values()), fields
    reg = api.post("/auth/registrations", {"last_name": "Кузнецов", "first_name": "Алексей", "phone": "+79161110022"})
    rid = reg.json["registration_id"]
    assert api.post(f"/auth/registrations/{rid}/confirm", {"code": api.last_code("+79161110022")}).status_code == 200
    weak = api.post(f"/auth/registrations/{rid}/complete", {"password": "qwerty", "password_repeat": "qwerty"},
                    headers=en)
    reasons = weak.json["error"]["fields"]["password"]
    assert weak.json["error"]["code"] == "PASSWORD_POLICY" and len(reasons) >= 2, weak.json
    assert not any(re.search("[а-яё]", r, re.I) for r in reasons), reasons
    assert any("8" in r for r in reasons), "the length rule keeps its number: " + str(reasons)
