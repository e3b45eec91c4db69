"""What the single sign-on tests share: the relying party's HTTP into the app, and the person's browser on our
pages (cookies kept, our own redirects followed), both through chalice's test client."""

from __future__ import annotations

import html as h
import re
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests


class IntoApp(requests.adapters.BaseAdapter):
    """requests → chalice's test client: the relying party's HTTP calls reach the app in-process."""

    def __init__(self, api: Any) -> None:
        super().__init__()
        self.api = api

    def send(self, request: requests.PreparedRequest, **kw: Any) -> requests.Response:
        parts = urlsplit(request.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        body = request.body.encode() if isinstance(request.body, str) else (request.body or b"")
        got = self.api.client.http.request(request.method, path, headers=dict(request.headers), body=body)
        resp = requests.Response()
        resp.status_code, resp._content, resp.url, resp.request = got.status_code, got.body, request.url, request
        resp.headers.update(got.headers)
        return resp

    def close(self) -> None:
        pass


class Browser:
    """The person's browser on our pages: cookies kept, our own redirects followed, the answer for the relying
    party (a redirect to another host) returned."""

    def __init__(self, api: Any, phone: str, register: bool = True) -> None:
        self.api, self.phone = api, phone
        if register:
            api.register(phone=phone)
        self.sign_in()

    def sign_in(self) -> None:
        tokens = self.api.login(self.phone)
        self.access = tokens["access_token"]
        self.cookies = {"kabinet-session": tokens["access_token"], "kabinet-refresh": tokens["refresh_token"]}

    def request(self, method: str, url: str, form: dict[str, str] | None = None) -> Any:
        parts = urlsplit(url)
        headers = {"cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), "user-agent": "Mozilla/5.0"}
        body = b""
        if form is not None:
            headers["content-type"] = "application/x-www-form-urlencoded"
            body = urlencode({**form, "csrf": self.cookies.get("kabinet-csrf", "")}).encode()
        resp = self.api.client.http.request(method, parts.path + (f"?{parts.query}" if parts.query else ""),
                                            headers=headers, body=body)
        cookies = resp.headers.get("Set-Cookie") or resp.headers.get("set-cookie") or []
        for cookie in [cookies] if isinstance(cookies, str) else cookies:
            name, _, rest = cookie.partition("=")
            value = rest.split(";")[0]
            if "Max-Age=0" in cookie:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return resp

    def follow(self, url: str, form: dict[str, str] | None = None, method: str = "GET") -> Any:
        """Our pages until one answers with a page or sends the browser to another host."""
        resp = self.request("POST" if form is not None else method, url, form)
        for _ in range(10):
            location = resp.headers.get("Location")
            if resp.status_code not in (302, 303) or not location or not location.startswith("/"):
                return resp
            resp = self.request("GET", location)
        raise AssertionError("redirect loop")

    def authorize(self, url: str, decision: str = "allow") -> Any:
        """Follow an authorization URL; on the consent page, answer it."""
        resp = self.follow(url)
        if resp.status_code == 200 and "decision" in resp.body.decode():
            resp = self.follow("/login/authorize", form={**hidden(resp.body.decode()), "decision": decision})
        return resp


def hidden(html: str) -> dict[str, str]:

    return {h.unescape(n): h.unescape(v) for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
                                                                  html) if n != "csrf"}


