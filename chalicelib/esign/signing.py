"""Signing an application with the qualified e-signature (DC-5).

What is signed is the application's canonical content: deterministic UTF-8 bytes of a JSON object with sorted
keys and no spaces — the application's id, number, service, submission time, the form as submitted, and each
attached document's pinned version and SHA-256, so the signature covers the attachments as the agency sees them.
`content` shows exactly these bytes; the person signs them (detached CMS) with a certificate bound to their
account, and `sign` checks the signature against that bound certificate and keeps it in the application's
journal (a `signature` line with the CMS itself, so an officer or a court can verify it again).

Only the owner reaches an application (anyone else: 404, as everywhere); a draft cannot be signed (its content
is still changing). The journal line and the application's `signed_sha256` are one transaction conditional on
`updated_at` as read: if the application changed after the content was computed, the signature is refused.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from chalicelib.adapters import esign_trust
from chalicelib.applications import transitions, views
from chalicelib.applications.actors import Actor
from chalicelib.core import clock
from chalicelib.core.errors import Conflict, Invalid
from chalicelib.esign import binding, cms
from chalicelib.store import journal, keys
from chalicelib.store.table import ConditionFailed, Tx

KIND = "kabinet-application"


def canonical(req: dict[str, Any]) -> bytes:
    """The bytes a signature over an application covers (the same for the same submitted application)."""
    doc = {"kind": KIND, "request_id": req["id"], "number": req.get("number"), "service_id": req["service_id"],
           "service_title": req["service_title"], "submitted_at": req.get("submitted_at"),
           "params": req.get("params") or {},
           "attachments": {doc_id: {"version": p["version"], "sha256": p["sha256"]}
                           for doc_id, p in sorted((req.get("pinned") or {}).items())}}
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def _submitted(user_id: str, request_id: str) -> dict[str, Any]:
    req = views.load_own(user_id, request_id)
    if req["status"] == "draft":
        raise Conflict("NOT_SUBMITTED", "Сначала подайте заявление: черновик подписать нельзя")
    return req


def content(user_id: str, request_id: str) -> dict[str, Any]:
    req = _submitted(user_id, request_id)
    data = canonical(req)
    return {"request_id": req["id"], "number": req.get("number"), "content": data.decode(),
            "content_base64": base64.b64encode(data).decode(), "sha256": hashlib.sha256(data).hexdigest(),
            "media_type": "application/json"}


def _refusal(code: str, message: str) -> Invalid:
    return Invalid(code, message, {"signature": message})


def sign(user_id: str, request_id: str, signature: str, ip: str | None) -> dict[str, Any]:
    req = _submitted(user_id, request_id)
    data = canonical(req)
    try:
        signed = cms.verify(data, cms.decode(signature), esign_trust.trust_list(), clock.now())
    except cms.Refused as refused:
        codes = {"expired": "CERT_EXPIRED", "not_yet_valid": "CERT_NOT_YET_VALID", "no_certificate": "CERT_NOT_FOUND"}
        raise _refusal(codes.get(refused.kind, "SIGNATURE_INVALID"), refused.message) from None
    alias = binding.bound_to(signed.signer.sha256)
    if alias is None or alias["user_id"] != user_id:  # only the person's own bound certificates count
        raise _refusal("CERT_NOT_FOUND", cms.NOT_FOUND)
    if not signed.trusted:
        raise _refusal("CERT_UNTRUSTED", "Сертификат выдан удостоверяющим центром, которого нет в списке доверенных")
    item = binding.binding_of(user_id, alias["certificate_id"])
    if item is None:
        raise _refusal("CERT_NOT_FOUND", cms.NOT_FOUND)
    digest = hashlib.sha256(data).hexdigest()
    if req.get("signed_sha256") == digest:
        raise Conflict("ALREADY_SIGNED", "Заявление уже подписано этой подписью в нынешнем виде")
    now = clock.iso(clock.now())
    tx = Tx().update(keys.request(req["id"]), "SET signed_sha256 = :d, signed_at = :now",
                     cond="updated_at = :u AND (attribute_not_exists(signed_sha256) OR signed_sha256 <> :d)",
                     values={":d": digest, ":now": now, ":u": req["updated_at"]}, tag="state")
    facts = {"certificate_id": item["certificate_id"], "serial": item["serial"], "owner": item["owner"],
             "issuer": item["issuer"], "not_after": item["not_after"], "certificate_sha256": item["sha256"],
             "content_sha256": digest, "cms": base64.b64encode(cms.decode(signature)).decode()}
    transitions.entry(tx, req["id"], "signature", Actor("citizen", user_id, ip=ip),
                      text=f"Подписано квалифицированной электронной подписью: {item['owner']}, сертификат "
                           f"№ {item['serial']} ({item['issuer']}), действует до {binding.until(item)}",
                      signature=facts)
    journal.audit(tx, keys.user_pk(user_id), "request.signed", user_id, ip, request_id=req["id"],
                  certificate_id=item["certificate_id"], serial=item["serial"], content_sha256=digest)
    try:
        tx.commit()
    except ConditionFailed as exc:
        if (exc.old or {}).get("signed_sha256") == digest:
            raise Conflict("ALREADY_SIGNED", "Заявление уже подписано этой подписью в нынешнем виде") from None
        raise Conflict("CONFLICT", "Заявление изменилось: получите содержимое для подписи заново") from None
    return {"request_id": req["id"], "signed_at": now, "content_sha256": digest, "certificate": binding.view(item)}
