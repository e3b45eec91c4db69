"""Passkeys (AU-4) over the in-process API: enrolment, the second factor, the passwordless sign-in, removal with
its notice, and the refusals (a replayed, forged, stale-counter or foreign-origin assertion).

The authenticator is a software one built here from `cryptography` (P-256 keys, ECDSA) and `cbor2` (the library
py_webauthn itself uses for CBOR): the server side only ever sees what a browser would send.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from chalicelib.identity.passkeys import relying_party

PHONE = "+79161234567"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Authenticator:
    """One discoverable P-256 credential, counting its signatures like a security key does."""

    rp_id: str
    origin: str
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    counter: int = 0
    user_handle: bytes = b""

    def _client_data(self, kind: str, challenge: str, origin: str | None = None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin or self.origin,
                           "crossOrigin": False}).encode()

    def create(self, options: dict[str, Any]) -> dict[str, Any]:
        self.user_handle = unb64(options["user"]["id"])
        numbers = self.key.public_key().public_numbers()
        cose = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})
        auth_data = (hashlib.sha256(self.rp_id.encode()).digest() + bytes([0x45]) + struct.pack(">I", self.counter)
                     + bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id + cose)
        client = self._client_data("webauthn.create", options["challenge"])
        return {"id": b64(self.credential_id), "rawId": b64(self.credential_id), "type": "public-key",
                "response": {"clientDataJSON": b64(client),
                             "attestationObject": b64(cbor2.dumps({"fmt": "none", "attStmt": {},
                                                                   "authData": auth_data})),
                             "transports": ["usb"]}}

    def get(self, options: dict[str, Any], *, origin: str | None = None, count: bool = True,
            key: ec.EllipticCurvePrivateKey | None = None) -> dict[str, Any]:
        if count:
            self.counter += 1
        auth_data = hashlib.sha256(self.rp_id.encode()).digest() + bytes([0x05]) + struct.pack(">I", self.counter)
        client = self._client_data("webauthn.get", options["challenge"], origin)
        signature = (key or self.key).sign(auth_data + hashlib.sha256(client).digest(), ec.ECDSA(hashes.SHA256()))
        return {"id": b64(self.credential_id), "rawId": b64(self.credential_id), "type": "public-key",
                "response": {"clientDataJSON": b64(client), "authenticatorData": b64(auth_data),
                             "signature": b64(signature), "userHandle": b64(self.user_handle)}}


@pytest.fixture
def key() -> Authenticator:
    rp_id, origin = relying_party()
    return Authenticator(rp_id, origin)


def enrol(api, token: str, key: Authenticator, name: str = "Ключ на связке") -> dict[str, Any]:
    started = api.post("/me/passkeys/options", token=token)
    assert started.status_code == 200, started.json
    options = started.json["options"]
    assert options["rp"]["id"] == key.rp_id and options["authenticatorSelection"]["residentKey"] == "required"
    done = api.post("/me/passkeys", {"challenge_id": started.json["challenge_id"], "name": name,
                                     "credential": key.create(options)}, token=token)
    assert done.status_code == 201, done.json
    return done.json


def test_the_relying_party_of_a_local_cloud_is_localhost():
    """Browsers refuse an IP address as RP ID; the local cloud at 127.0.0.1 uses localhost on the same port."""
    assert relying_party() == ("localhost", "http://localhost:8000")


def test_enrol_list_and_sign_in_with_a_passkey_as_the_second_factor(api, key):
    token = api.register(PHONE)["access_token"]
    added = enrol(api, token, key)
    assert added["name"] == "Ключ на связке" and added["transports"] == ["usb"]
    listed = api.get("/me/passkeys", token=token).json["items"]
    assert [p["id"] for p in listed] == [added["id"]] and listed[0]["last_used_at"] is None
    assert any("добавлен ключ доступа «Ключ на связке»" in m["text"] for m in api.outbox(PHONE))

    step = api.login(PHONE)
    assert step["mfa_required"] and step["methods"] == ["passkey"], step
    options = api.post("/auth/login/mfa/passkey/options", {"challenge_id": step["challenge_id"]})
    assert options.status_code == 200, options.json
    allowed = options.json["options"]["allowCredentials"]
    assert [c["id"] for c in allowed] == [b64(key.credential_id)]
    assertion = key.get(options.json["options"])
    signed = api.post("/auth/login/mfa/passkey", {"challenge_id": step["challenge_id"], "credential": assertion})
    assert signed.status_code == 200 and "access_token" in signed.json, signed.json
    history = api.get("/me/login-history", token=signed.json["access_token"]).json["items"]
    assert (history[0]["method"], history[0]["mfa"], history[0]["result"]) == ("password", "passkey", "success")
    again = api.post("/auth/login/mfa/passkey", {"challenge_id": step["challenge_id"], "credential": assertion})
    assert again.status_code == 401, again.json
    assert api.get("/me/passkeys", token=token).json["items"][0]["last_used_at"]


def _passwordless(api, authenticator: Authenticator, **kw: Any) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    started = api.post("/auth/passkey/options")
    assert started.status_code == 200, started.json
    assert started.json["options"]["allowCredentials"] == [] and \
        started.json["options"]["userVerification"] == "required"
    credential = authenticator.get(started.json["options"], **kw)
    resp = api.post("/auth/passkey", {"challenge_id": started.json["challenge_id"], "credential": credential})
    return resp, started.json, credential


def test_passwordless_sign_in_and_every_refused_assertion(api, key):
    token = api.register(PHONE)["access_token"]
    enrol(api, token, key)
    resp, started, credential = _passwordless(api, key)
    assert resp.status_code == 200 and resp.json["user_id"], resp.json
    history = api.get("/me/login-history", token=resp.json["access_token"]).json["items"]
    assert (history[0]["method"], history[0]["mfa"]) == ("passkey", None)

    replayed = api.post("/auth/passkey", {"challenge_id": started["challenge_id"], "credential": credential})
    assert replayed.status_code == 401 and replayed.json["error"]["code"] == "PASSKEY_CHALLENGE_INVALID"

    stale, _, _ = _passwordless(api, key, count=False)  # a cloned key: the counter did not move on
    assert stale.status_code == 401 and stale.json["error"]["code"] == "PASSKEY_INVALID", stale.json
    forged, _, _ = _passwordless(api, key, key=ec.generate_private_key(ec.SECP256R1()))
    assert forged.status_code == 401 and forged.json["error"]["code"] == "PASSKEY_INVALID", forged.json
    phished, _, _ = _passwordless(api, key, origin="https://gosuslugi.example")
    assert phished.status_code == 401 and phished.json["error"]["code"] == "PASSKEY_INVALID", phished.json
    stranger, _, _ = _passwordless(api, Authenticator(key.rp_id, key.origin, user_handle=key.user_handle))
    assert stranger.status_code == 401, stranger.json
    ok, _, _ = _passwordless(api, key)
    assert ok.status_code == 200, ok.json


def test_a_refused_assertion_spends_its_challenge(api, key):
    token = api.register(PHONE)["access_token"]
    enrol(api, token, key)
    started = api.post("/auth/passkey/options").json
    forged = key.get(started["options"], key=ec.generate_private_key(ec.SECP256R1()))
    assert api.post("/auth/passkey", {"challenge_id": started["challenge_id"], "credential": forged}).status_code == 401
    good = key.get(started["options"])
    again = api.post("/auth/passkey", {"challenge_id": started["challenge_id"], "credential": good})
    assert again.status_code == 401 and again.json["error"]["code"] == "PASSKEY_CHALLENGE_INVALID"


def test_remove_tells_the_owner_and_the_key_no_longer_signs_in(api, key):
    token = api.register(PHONE)["access_token"]
    added = enrol(api, token, key)
    assert api.call("DELETE", f"/me/passkeys/{added['id']}", token=token).status_code == 204
    assert api.get("/me/passkeys", token=token).json["items"] == []
    assert any("удалён ключ доступа «Ключ на связке»" in m["text"] for m in api.outbox(PHONE))
    inbox = api.get("/me/messages", token=token)
    if inbox.status_code == 200:  # the in-app inbox (NT-1) holds the same notice
        assert "Удалён ключ доступа" in json.dumps(inbox.json, ensure_ascii=False)
    assert "access_token" in api.login(PHONE), "no passkey left: the password alone signs in again"
    resp, _, _ = _passwordless(api, key)
    assert resp.status_code == 401
    assert api.call("DELETE", f"/me/passkeys/{added['id']}", token=token).status_code == 404


def test_enrolment_refusals(api, key):
    token = api.register(PHONE)["access_token"]
    started = api.post("/me/passkeys/options", token=token).json
    blank = api.post("/me/passkeys", {"challenge_id": started["challenge_id"], "name": "   ",
                                      "credential": key.create(started["options"])}, token=token)
    assert blank.status_code == 400 and "name" in blank.json["error"]["fields"], blank.json
    wrong = key.create(started["options"])
    wrong["response"]["clientDataJSON"] = b64(key._client_data("webauthn.create", b64(b"other challenge")))
    refused = api.post("/me/passkeys", {"challenge_id": started["challenge_id"], "name": "Ключ",
                                        "credential": wrong}, token=token)
    assert refused.status_code == 400 and refused.json["error"]["code"] == "PASSKEY_INVALID", refused.json
    assert api.get("/me/passkeys", token=token).json["items"] == []
    enrol(api, token, key)
    started = api.post("/me/passkeys/options", token=token).json
    assert started["options"]["excludeCredentials"][0]["id"] == b64(key.credential_id)
    twice = api.post("/me/passkeys", {"challenge_id": started["challenge_id"], "name": "Снова",
                                      "credential": key.create(started["options"])}, token=token)
    assert twice.status_code == 409 and twice.json["error"]["code"] == "PASSKEY_EXISTS", twice.json
