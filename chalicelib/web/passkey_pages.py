"""Passkey pages (AU-4): the list with add and remove (/security/passkeys), the passwordless sign-in
(/login/passkey) and the passkey step of /login/second-factor. The same domain calls and models as
api/passkeys.py.

Each page carries its WebAuthn options in the form (static/passkey.js reads them); the script posts the
authenticator's answer with the form, so the session cookie is set by the page's own response.
"""

from __future__ import annotations

import json
import re
from typing import Any

from chalice import Blueprint
from pydantic import ValidationError

from chalicelib.core import i18n
from chalicelib.core.errors import DomainError, Invalid, not_found
from chalicelib.identity import auth, passkeys
from chalicelib.identity.passkey_models import (
    PASSKEY_ID,
    PasskeyRegisterIn,
    PasskeySecondFactorIn,
    PasskeySignInIn,
)
from chalicelib.web.pages import Page, Redirect, Visit, form_errors, invalid, page, safe_next
from chalicelib.web.signin import _after_password

bp = Blueprint(__name__)
NEEDS_ANSWER = "Подтвердите действие ключом доступа: для этого в браузере должен работать JavaScript"


def _credential(visit: Visit) -> Any:
    """The authenticator's answer the script put in the form; without it (no JavaScript) a clear refusal."""
    text = visit.form.get("credential", "")
    try:
        value = json.loads(text) if text else None
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise Invalid("PASSKEY_REQUIRED", NEEDS_ANSWER, {"credential": NEEDS_ANSWER})
    return value


def _errors(exc: Exception, visit: Visit) -> dict[str, Any]:
    """A refusal as the page shows it: the credential's inner fields are the script's, not the person's."""
    if isinstance(exc, ValidationError):
        found = invalid(exc, visit.lang)
        fields = {k: v for k, v in found["fields"].items() if not k.startswith("credential")}
        if len(fields) < len(found["fields"]):
            fields["credential"] = i18n.text(visit.lang, "Ответ ключа доступа не прошёл проверку")
        return {"message": found["message"], "fields": fields}
    assert isinstance(exc, DomainError)
    return form_errors(exc, visit.lang)


def _options(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))


@page(bp, "/security/passkeys", methods=("GET", "POST"))
def settings_page(visit: Visit) -> Page | Redirect:
    context: dict[str, Any] = {"errors": None, "name": visit.form.get("name", ""),
                               "done": visit.query.get("done") if visit.query.get("done") in ("added", "removed")
                               else None}
    status = 200
    if visit.method == "POST":
        try:
            if visit.form.get("action") == "remove":
                passkey_id = visit.form.get("passkey_id", "")
                if not re.fullmatch(PASSKEY_ID, passkey_id):
                    raise not_found("Ключ доступа")
                passkeys.remove(visit.user_id, passkey_id, visit.origin)
                return Redirect("/security/passkeys?done=removed")
            body = PasskeyRegisterIn.model_validate({"challenge_id": visit.form.get("challenge_id", ""),
                                                     "name": visit.form.get("name", ""),
                                                     "credential": _credential(visit)})
            passkeys.register(visit.user_id, body.challenge_id, body.credential.model_dump(exclude_none=True),
                              body.name, visit.origin)
            return Redirect("/security/passkeys?done=added")
        except (ValidationError, DomainError) as exc:
            context["errors"], status = _errors(exc, visit), 400
    context["passkeys"] = passkeys.listing(visit.user_id)
    context["limit"] = len(context["passkeys"]) >= passkeys.MAX_PASSKEYS
    if not context["limit"]:
        started = passkeys.registration_options(visit.user_id)
        context.update(challenge_id=started["challenge_id"], options=_options(started["options"]))
    return Page("passkeys.html", context, status)


@page(bp, "/login/passkey", methods=("GET", "POST"), auth=False)
def sign_in_page(visit: Visit) -> Page | Redirect:
    next_path = safe_next(visit.query.get("next") or visit.form.get("next"))
    if visit.principal and visit.method == "GET":
        return Redirect(next_path)
    context: dict[str, Any] = {"next": next_path, "errors": None}
    status = 200
    if visit.method == "POST":
        try:
            body = PasskeySignInIn.model_validate({"challenge_id": visit.form.get("challenge_id", ""),
                                                   "credential": _credential(visit)})
            return _after_password(visit, passkeys.sign_in(body.challenge_id,
                                                           body.credential.model_dump(exclude_none=True),
                                                           visit.origin), next_path)
        except (ValidationError, DomainError) as exc:
            context["errors"], status = _errors(exc, visit), 400
    started = passkeys.sign_in_options()
    context.update(challenge_id=started["challenge_id"], options=_options(started["options"]))
    return Page("passkeys_login.html", context, status)


def second_factor(visit: Visit, challenge: str, context: dict[str, Any]) -> Page | Redirect:
    """The passkey step of /login/second-factor (web/signin.py hands it over when the method is "passkey")."""
    status = 200
    if visit.method == "POST":
        try:
            body = PasskeySecondFactorIn.model_validate({"challenge_id": challenge, "credential": _credential(visit)})
            return _after_password(visit, auth.login_passkey(body.challenge_id,
                                                             body.credential.model_dump(exclude_none=True),
                                                             visit.origin), context["next"])
        except (ValidationError, DomainError) as exc:
            context["errors"], status = _errors(exc, visit), 400
    try:
        context["options"] = _options(auth.passkey_options(challenge)["options"])
    except DomainError as exc:
        context["errors"] = _errors(exc, visit)
    return Page("second_factor.html", context, status)
