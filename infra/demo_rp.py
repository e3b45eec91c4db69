"""«Демо-госсистема»: a second state system that signs people in with Kabinet (issue 15; docs/sso.md).

It is a relying party built only from an independent client library, so it checks the provider from outside:
Authlib's `OAuth2Session` (authorization code, PKCE S256, `state`, `nonce`, `private_key_jwt` through Authlib's
`PrivateKeyJWT`) with its own RSA key, every endpoint read from the provider's discovery document, and the
id_token and Back-Channel Logout tokens verified with joserfc against the provider's `jwks_uri`. Nothing here
imports Kabinet's code. `make run` serves it (infra/local.py); tests drive it in-process (tests/test_demo_rp.py).

    python -m infra.demo_rp --issuer http://127.0.0.1:8000 [--port 8001] [--key build/demo-rp/key.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
from jinja2 import DictLoader, Environment
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from joserfc.jwt import JWTClaimsRegistry
from werkzeug.wrappers import Request, Response

CLIENT_ID = "demo-rp"
NAME = "Демо-госсистема"
SCOPES = ("openid", "profile", "birthdate", "snils", "inn", "contacts")
COOKIE = "demo_rp_session"
ASSERTION_TTL = 120
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
log = logging.getLogger("kabinet.demo_rp")

LABELS = {"sub": "Идентификатор в системе", "acr": "Уровень учётной записи", "amr": "Способы входа",
          "auth_time": "Время входа", "sid": "Сеанс в Кабинете", "family_name": "Фамилия", "given_name": "Имя",
          "middle_name": "Отчество", "birthdate": "Дата рождения", "snils": "СНИЛС", "inn": "ИНН",
          "email": "Электронная почта", "email_verified": "Почта подтверждена", "phone_number": "Телефон",
          "phone_number_verified": "Телефон подтверждён"}
PROTOCOL = ("iss", "aud", "exp", "iat", "nonce", "at_hash", "azp", "jti")  # not about the person: not shown

TEMPLATES = {"base": """<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} — Демо-госсистема</title>
<style>
body { font-family: system-ui, sans-serif; margin: 0; color: #1a1a1a; background: #fff; line-height: 1.5; }
header { background: #0b3d7a; color: #fff; padding: 0.75rem 1.5rem; }
header p { margin: 0; font-weight: 600; }
main { max-width: 48rem; margin: 0 auto; padding: 1.5rem; }
a { color: #0b4ea2; }
.button { display: inline-block; background: #0b4ea2; color: #fff; border: 0; border-radius: 0.25rem;
          padding: 0.6rem 1.2rem; font-size: 1rem; text-decoration: none; cursor: pointer; }
.button:focus-visible, a:focus-visible { outline: 3px solid #e0a800; outline-offset: 2px; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.5rem; }
th, td { border: 1px solid #8a8a8a; padding: 0.4rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #eef2f7; }
code { font-size: 0.9em; }
.error { border-left: 4px solid #b00020; padding-left: 1rem; }
</style>
</head>
<body>
<header><p>Демо-госсистема</p></header>
<main>
{% block main %}{% endblock %}
</main>
</body>
</html>""",
             "home": """{% extends "base" %}{% block main %}
<h1>{{ title }}</h1>
{% if notice %}<p role="status">{{ notice }}</p>{% endif %}
{% if rows %}
<p>Вы вошли через Кабинет{% if name %} как <strong>{{ name }}</strong>{% endif %}.</p>
<table>
<caption>Сведения, которые передал Кабинет</caption>
<thead><tr><th scope="col">Сведение</th><th scope="col">Поле</th><th scope="col">Значение</th></tr></thead>
<tbody>
{% for label, claim, value in rows %}<tr><th scope="row">{{ label }}</th><td><code>{{ claim }}</code></td>
<td>{{ value }}</td></tr>
{% endfor %}</tbody>
</table>
<form method="post" action="/logout"><button class="button" type="submit">Выйти</button></form>
{% else %}
<p>Это пример другой государственной системы. Чтобы продолжить, войдите с учётной записью Кабинета: система
получит только те сведения, на которые вы дадите согласие.</p>
<p><a class="button" href="/login">Войти через Кабинет</a></p>
{% endif %}
{% endblock %}""",
             "error": """{% extends "base" %}{% block main %}
<h1>{{ title }}</h1>
<div class="error" role="alert"><p>{{ message }}</p></div>
<p><a href="/">На главную</a></p>
{% endblock %}"""}
_env = Environment(loader=DictLoader(TEMPLATES), autoescape=True)


class Refused(Exception):
    """A response or token from the provider that this system does not accept."""


@dataclass
class Session:
    """One browser's state here: the pending sign-in (state, nonce, PKCE verifier), then what it received."""

    pending: dict[str, str] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)
    id_token: str | None = None
    logout_state: str | None = None


def load_or_create_key(path: Path) -> RSAKey:
    """The system's RSA key, kept under build/ so that a restart keeps the registered public key valid."""
    if path.exists():
        return RSAKey.import_key(json.loads(path.read_text(encoding="utf-8")))
    key = RSAKey.generate_key(2048, parameters={"kid": f"demo-rp-{secrets.token_hex(4)}", "use": "sig",
                                                "alg": "RS256"})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(key.as_dict(private=True)), encoding="utf-8")
    path.chmod(0o600)
    return key


class DemoRP:
    """The WSGI application. `adapter`, when given, carries every HTTP call to the provider (tests send them
    into the app in-process); otherwise they go over the network."""

    def __init__(self, issuer: str, base_url: str, key: RSAKey, client_id: str = CLIENT_ID,
                 adapter: requests.adapters.BaseAdapter | None = None) -> None:
        self.issuer = issuer.rstrip("/")
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.client_id = client_id
        self.adapter = adapter
        self.sessions: dict[str, Session] = {}
        self.seen_logout_jtis: set[str] = set()
        self.lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    # -- what the provider registers for this system (infra/local.py) --
    @property
    def redirect_uri(self) -> str:
        return f"{self.base_url}/callback"

    @property
    def post_logout_redirect_uri(self) -> str:
        return f"{self.base_url}/"

    @property
    def backchannel_logout_uri(self) -> str:
        return f"{self.base_url}/backchannel-logout"

    def public_jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    # -- the provider, as discovery describes it --
    def http(self) -> requests.Session:
        session = requests.Session()
        self._mount(session)
        return session

    def _mount(self, session: requests.Session) -> None:
        if self.adapter is not None:
            session.mount("http://", self.adapter)
            session.mount("https://", self.adapter)

    def metadata(self) -> dict[str, Any]:
        """OpenID Provider metadata; its `issuer` must be the one configured (OIDC Discovery 4.3)."""
        if self._metadata is None:
            got = self.http().get(f"{self.issuer}/.well-known/openid-configuration", timeout=10)
            got.raise_for_status()
            doc = got.json()
            if doc.get("issuer") != self.issuer:
                raise Refused(f"discovery issuer {doc.get('issuer')!r} is not {self.issuer!r}")
            self._metadata = doc
        return self._metadata

    def provider_keys(self, kid: str | None) -> KeySet:
        """The provider's JWKS, fetched again once when a token names a key not seen yet (a rotation)."""
        if self._keys is None or (kid and kid not in {k.kid for k in self._keys.keys}):
            got = self.http().get(self.metadata()["jwks_uri"], timeout=10)
            got.raise_for_status()
            self._keys = KeySet.import_key_set(got.json())
        return self._keys

    def algorithms(self) -> list[str]:
        return list(self.metadata().get("id_token_signing_alg_values_supported") or ["RS256"])

    def oauth(self, **kw: Any) -> Any:
        """Authlib's client for one exchange: PKCE S256 and private_key_jwt with this system's key."""
        from authlib.integrations.requests_client import OAuth2Session
        from authlib.oauth2.rfc7523 import PrivateKeyJWT

        token_endpoint = self.metadata()["token_endpoint"]
        # Authlib's assertion lives an hour by default; a short one (2 minutes) is what providers accept.
        assertion = PrivateKeyJWT(token_endpoint, alg="RS256", headers={"kid": self.key.kid},
                                  claims={"exp": int(time.time()) + ASSERTION_TTL})
        session = OAuth2Session(self.client_id, client_secret=self.key, scope=" ".join(SCOPES),
                                redirect_uri=self.redirect_uri, code_challenge_method="S256",
                                token_endpoint_auth_method=assertion, **kw)
        self._mount(session)
        return session

    def _decode(self, token: str) -> jwt.Token:
        try:
            header = jws.extract_compact(token.encode()).protected
        except (JoseError, ValueError) as exc:
            raise Refused(f"not a JWS: {exc}") from exc
        kid = header.get("kid")
        keyset = self.provider_keys(kid)
        if not kid or kid not in {k.kid for k in keyset.keys}:
            raise Refused(f"unknown kid {kid!r}")
        try:
            return jwt.decode(token, keyset, algorithms=self.algorithms())
        except (JoseError, ValueError) as exc:
            raise Refused(f"bad signature: {exc}") from exc

    def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        """OIDC Core 3.1.3.7: signature by a key of `jwks_uri`, `iss`, `aud` (and `azp` when several), `nonce`,
        `exp`, `iat`."""
        claims = self._decode(id_token).claims
        registry = JWTClaimsRegistry(leeway=30, iss={"essential": True, "value": self.issuer},
                                     aud={"essential": True, "value": self.client_id},
                                     nonce={"essential": True, "value": nonce}, sub={"essential": True},
                                     exp={"essential": True}, iat={"essential": True})
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise Refused(f"id_token: {exc}") from exc
        if isinstance(claims["aud"], list) and len(claims["aud"]) > 1 and claims.get("azp") != self.client_id:
            raise Refused("id_token: azp is not this client")
        return claims

    def verify_logout_token(self, token: str) -> dict[str, Any]:
        """OIDC Back-Channel Logout 1.0, 2.6: signed by the provider, `iss`, `aud`, `iat`, `jti` (single use
        here), the back-channel logout event, `sid` and/or `sub`, and no `nonce`; `exp` checked when present."""
        claims = self._decode(token).claims
        registry = JWTClaimsRegistry(leeway=30, iss={"essential": True, "value": self.issuer},
                                     aud={"essential": True, "value": self.client_id}, iat={"essential": True},
                                     jti={"essential": True}, events={"essential": True})
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise Refused(f"logout_token: {exc}") from exc
        events = claims["events"]
        if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_EVENT), dict):
            raise Refused("logout_token: no back-channel logout event")
        if "nonce" in claims:
            raise Refused("logout_token: carries a nonce")
        if not claims.get("sid") and not claims.get("sub"):
            raise Refused("logout_token: neither sid nor sub")
        with self.lock:
            if claims["jti"] in self.seen_logout_jtis:
                raise Refused("logout_token: jti replayed")
            self.seen_logout_jtis.add(claims["jti"])
        return claims

    # -- WSGI --
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        routes = {("GET", "/"): self.home, ("GET", "/login"): self.login, ("GET", "/callback"): self.callback,
                  ("POST", "/logout"): self.logout, ("POST", "/backchannel-logout"): self.backchannel_logout}
        handler = routes.get((request.method, request.path))
        if handler is None:
            allowed = [m for m, p in routes if p == request.path]
            response = (Response(status=405, headers={"Allow": ", ".join(allowed)}) if allowed
                        else self.page("error", 404, title="Страница не найдена", message="Такой страницы нет."))
        else:
            try:
                response = handler(request)
            except requests.RequestException as exc:
                log.warning("demo-rp: the provider did not answer: %s", exc)
                response = self.page("error", 502, title="Кабинет не отвечает",
                                     message="Не удалось связаться с Кабинетом. Попробуйте позже.")
        return response(environ, start_response)

    def page(self, template: str, status: int = 200, **values: Any) -> Response:
        html = _env.get_template(template).render(**values)
        return Response(html, status=status, content_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-store"})

    def session_of(self, request: Request) -> tuple[str, Session]:
        sid = request.cookies.get(COOKIE)
        with self.lock:
            if not sid or sid not in self.sessions:
                sid = secrets.token_urlsafe(32)
                self.sessions[sid] = Session()
            return sid, self.sessions[sid]

    def with_cookie(self, response: Response, sid: str) -> Response:
        response.set_cookie(COOKIE, sid, httponly=True, samesite="Lax", path="/")
        return response

    def home(self, request: Request) -> Response:
        sid, session = self.session_of(request)
        notice = None
        if session.logout_state and request.args.get("state") == session.logout_state:
            session.logout_state = None
            notice = "Вы вышли из Демо-госсистемы и из Кабинета."
        rows = self.rows(session.claims)
        title = "Вход выполнен" if rows else "Демо-госсистема"
        return self.with_cookie(self.page("home", title=title, rows=rows, notice=notice,
                                          name=self.full_name(session.claims)), sid)

    def login(self, request: Request) -> Response:
        """A new sign-in: fresh `state`, `nonce` and PKCE verifier, kept in this browser's session."""
        sid, session = self.session_of(request)
        verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(24)
        url, state = self.oauth().create_authorization_url(self.metadata()["authorization_endpoint"],
                                                           code_verifier=verifier, nonce=nonce)
        session.pending = {"state": state, "nonce": nonce, "verifier": verifier}
        return self.with_cookie(Response(status=303, headers={"Location": url}), sid)

    def callback(self, request: Request) -> Response:
        """The provider sent the browser back: check `state`, redeem the code (private_key_jwt + PKCE verifier),
        verify the id_token, ask userinfo, and show what came."""
        sid, session = self.session_of(request)
        pending, session.pending = session.pending, {}
        if not pending or request.args.get("state") != pending["state"]:
            return self.page("error", 400, title="Вход не выполнен",
                             message="Ответ Кабинета не относится к этому входу. Начните вход заново.")
        if request.args.get("error"):
            return self.page("error", 400, title="Вход не выполнен",
                             message=f"Кабинет не выполнил вход ({request.args['error']}).")
        from authlib.common.errors import AuthlibBaseError

        oauth = self.oauth()
        try:
            tokens = oauth.fetch_token(self.metadata()["token_endpoint"],
                                       authorization_response=f"{self.redirect_uri}?{request.query_string.decode()}",
                                       state=pending["state"], code_verifier=pending["verifier"])
            claims = self.verify_id_token(tokens["id_token"], pending["nonce"])
        except (Refused, KeyError, ValueError) as exc:
            log.warning("demo-rp: sign-in refused: %s", exc)
            return self.page("error", 400, title="Вход не выполнен",
                             message="Кабинет вернул ответ, который не прошёл проверку. Начните вход заново.")
        except AuthlibBaseError as exc:  # the provider's OAuth error answer (invalid_grant, invalid_client, …)
            log.warning("demo-rp: token request failed: %s", exc)
            return self.page("error", 400, title="Вход не выполнен",
                             message="Кабинет отказал в выдаче сведений. Начните вход заново.")
        info = oauth.get(self.metadata()["userinfo_endpoint"], timeout=10) if "userinfo_endpoint" in \
            self.metadata() else None
        extra = info.json() if info is not None and info.status_code == 200 else {}
        if extra.get("sub") not in (None, claims["sub"]):  # OIDC Core 5.3.2: userinfo sub must match
            extra = {}
        session.claims, session.id_token = {**claims, **extra}, tokens["id_token"]
        rows = self.rows(session.claims)
        return self.with_cookie(self.page("home", title="Вход выполнен", rows=rows, notice=None,
                                          name=self.full_name(session.claims)), sid)

    def logout(self, request: Request) -> Response:
        """Sign out here, then RP-Initiated Logout at the provider (`id_token_hint`, `post_logout_redirect_uri`,
        `state`) when discovery names an `end_session_endpoint`."""
        sid, session = self.session_of(request)
        id_token, session.claims, session.id_token = session.id_token, {}, None
        end_session = self.metadata().get("end_session_endpoint")
        if not end_session or not id_token:
            return self.with_cookie(Response(status=303, headers={"Location": "/"}), sid)
        session.logout_state = secrets.token_urlsafe(24)
        query = urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": self.post_logout_redirect_uri,
                           "state": session.logout_state, "client_id": self.client_id})
        return self.with_cookie(Response(status=303, headers={"Location": f"{end_session}?{query}"}), sid)

    def backchannel_logout(self, request: Request) -> Response:
        """The provider ends this system's sessions of a Kabinet session (sid) or of a person (sub)."""
        headers = {"Cache-Control": "no-store"}
        token = request.form.get("logout_token")
        try:
            if not token:
                raise Refused("no logout_token")
            claims = self.verify_logout_token(token)
        except Refused as exc:
            log.warning("demo-rp: logout token refused: %s", exc)
            return Response(json.dumps({"error": "invalid_request", "error_description": str(exc)}), status=400,
                            content_type="application/json", headers=headers)
        ended = self.end_sessions(claims.get("sid"), claims.get("sub"))
        log.info("demo-rp: back-channel logout ended %d session(s)", ended)
        return Response(status=200, headers=headers)

    def end_sessions(self, sid: str | None, sub: str | None) -> int:
        ended = 0
        with self.lock:
            for session in self.sessions.values():
                claims = session.claims
                if not claims or claims.get("iss") != self.issuer:
                    continue
                if (sid is None or claims.get("sid") == sid) and (sub is None or claims.get("sub") == sub):
                    session.claims, session.id_token = {}, None
                    ended += 1
        return ended

    @staticmethod
    def full_name(claims: dict[str, Any]) -> str:
        return " ".join(claims[k] for k in ("family_name", "given_name", "middle_name") if claims.get(k))

    @staticmethod
    def rows(claims: dict[str, Any]) -> list[tuple[str, str, str]]:
        def shown(name: str, value: Any) -> str:
            if name == "auth_time" and isinstance(value, int | float):
                return datetime.fromtimestamp(value, UTC).strftime("%d.%m.%Y %H:%M:%S UTC")
            if isinstance(value, bool):
                return "да" if value else "нет"
            if isinstance(value, list):
                return ", ".join(map(str, value))
            return json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value)

        known = [(LABELS[k], k, shown(k, claims[k])) for k in LABELS if k in claims]
        other = [(k, k, shown(k, v)) for k, v in sorted(claims.items()) if k not in LABELS and k not in PROTOCOL]
        return known + other


def serve(rp: DemoRP, host: str, port: int) -> tuple[Any, threading.Thread]:
    """Serve `rp` in a daemon thread; `server.shutdown()` stops it."""
    from werkzeug.serving import make_server

    server = make_server(host, port, rp, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="demo-rp", daemon=True)
    thread.start()
    return server, thread


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.demo_rp")
    parser.add_argument("--issuer", required=True, help="Kabinet's issuer (its public base URL)")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--key", type=Path, default=Path("build/demo-rp/key.json"))
    args = parser.parse_args(argv)
    rp = DemoRP(args.issuer, f"http://127.0.0.1:{args.port}", load_or_create_key(args.key))
    from werkzeug.serving import run_simple

    print(f"{NAME}: http://127.0.0.1:{args.port}/  (client {CLIENT_ID}; its JWKS: "
          f"{json.dumps(rp.public_jwks())})", flush=True)
    run_simple("127.0.0.1", args.port, rp, threaded=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
