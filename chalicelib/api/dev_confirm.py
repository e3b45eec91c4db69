"""Local-only pages of the outside world the confirmation channels talk to (stage `local`, registered by app.py):
the partner-bank simulator's sign-in page (it sends the person back to the web client's /identity/bank/callback),
and the registered letters "posted" as PDFs. The simulator's logic is infra/bank_simulator.py."""

from __future__ import annotations

import base64
import html
from typing import Any
from urllib.parse import parse_qs, urlencode

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.adapters.post import letter_url
from chalicelib.api.http import Call, Content, endpoint, validation_fields
from chalicelib.core.errors import Forbidden, Invalid, not_found
from chalicelib.identity.confirmation_models import AuthorizeQuery, DevLetterOut
from chalicelib.store import keys, table
from infra import bank_simulator

bp = Blueprint(__name__)
HTML = Content("text/html", description="HTML-страница")
BANK_PATH = {"bank_id": {"type": "string", "enum": sorted(bank_simulator.BANKS)}}
FORM = "application/x-www-form-urlencoded"


def _page(title: str, body: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    text = (f'<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            '<style>body{font-family:sans-serif;max-width:36rem;margin:3rem auto;line-height:1.5}'
            'input{display:block;margin:.3rem 0 1rem;padding:.4rem;width:100%}code{word-break:break-all}</style>'
            f'</head><body><h1>{html.escape(title)}</h1>{body}</body></html>')
    return Response(body=text, status_code=status, headers={"Content-Type": "text/html; charset=utf-8",
                                                             "Cache-Control": "no-store", **(headers or {})})


def _bank(bank_id: str) -> str:
    if bank_id not in bank_simulator.BANKS:
        raise not_found("Банк")
    return bank_simulator.BANKS[bank_id]


def _oauth(values: dict[str, str]) -> AuthorizeQuery:
    try:
        request = AuthorizeQuery.model_validate(values)
    except ValidationError as exc:
        raise Invalid("VALIDATION_ERROR", "Неверный запрос авторизации", validation_fields(exc)) from None
    if request.client_id != "kabinet" or request.redirect_uri != bank_simulator.redirect_uri():
        # OAuth2: never send a person to an unregistered redirect URI
        raise Forbidden("UNREGISTERED_CLIENT", "Неизвестный клиент или адрес возврата не зарегистрирован в банке")
    return request


@endpoint(bp, "GET", "/dev/bank/{bank_id}/authorize", summary="Partner-bank simulator: sign-in page (local only)",
          auth=False, query=AuthorizeQuery, response=HTML, tag="dev", path_schemas=BANK_PATH)
def authorize_page(call: Call, bank_id: str) -> Response:
    name = _bank(bank_id)
    request = _oauth(call.query)
    hidden = "".join(f'<input type="hidden" name="{k}" value="{html.escape(str(v))}">'
                     for k, v in request.model_dump().items() if k != "error")
    error = '<p style="color:#b00">Неверный логин или пароль</p>' if request.error else ""
    return _page(name, f"<p>Портал госуслуг просит передать ваши ФИО, ИНН и дату рождения.</p>{error}"
                 f'<form method="post">{hidden}<label>Логин (СНИЛС, 11 цифр)<input name="login" autocomplete="off">'
                 '</label><label>Пароль<input name="password" type="password"></label>'
                 '<button name="action" value="allow">Войти и передать данные</button> '
                 '<button name="action" value="deny">Отказаться</button></form>'
                 f"<p><small>Демо-пароль: {bank_simulator.DEMO_BANK_PASSWORD}. Исходы выбираются суффиксом "
                 "логина: +fio, +inn, +birth, +badsig, +down… (docs/confirmation.md)</small></p>")


@endpoint(bp, "POST", "/dev/bank/{bank_id}/authorize", summary="Partner-bank simulator: sign in (local only)",
          auth=False, raw=(FORM,), response=HTML, status=303, tag="dev", path_schemas=BANK_PATH)
def authorize(call: Call, data: bytes, bank_id: str) -> Response:
    _bank(bank_id)
    try:
        form = {k: v[0] for k, v in parse_qs(data.decode("utf-8"), keep_blank_values=True,
                                             max_num_fields=20).items()}
    except ValueError:
        raise Invalid("INVALID_FORM", "Тело запроса должно быть формой application/x-www-form-urlencoded") from None
    login, password, action = form.pop("login", ""), form.pop("password", ""), form.pop("action", "allow")
    request = _oauth(form)
    if action == "deny":
        target = f"{request.redirect_uri}?{urlencode({'error': 'access_denied', 'state': request.state})}"
    else:
        code = bank_simulator.authorize(bank_id, login, password, challenge=request.code_challenge,
                                        nonce=request.nonce, uri=request.redirect_uri)
        if code is None:
            back = {**request.model_dump(), "error": "login"}
            target = f"/dev/bank/{bank_id}/authorize?{urlencode(back)}"
        else:
            target = f"{request.redirect_uri}?{urlencode({'code': code, 'state': request.state})}"
    return _page("Перенаправление", f'<p><a href="{html.escape(target)}">Продолжить</a></p>', 303,
                 {"Location": target})


def _letter(item: dict[str, Any]) -> dict[str, Any]:
    fields = {k: item[k] for k in ("id", "to", "recipient", "subject", "text", "at")}
    return {**fields, "pdf_url": letter_url(item["id"])}


@endpoint(bp, "GET", "/dev/letters", summary="Registered letters posted lately, newest first (local only)",
          auth=False, response=list[DevLetterOut], tag="dev")
def letters(call: Call) -> list[dict[str, Any]]:
    page = table.query(keys.DEV_LETTERS, keys.DEV_LETTER_PREFIX, limit=20, consistent=True)
    return [_letter(item) for item in page.items]


@endpoint(bp, "GET", "/dev/letters/{letter_id}/pdf", summary="A registered letter as PDF (local only)",
          auth=False, response=Content("application/pdf", binary=True, description="Письмо в PDF"), tag="dev")
def letter_pdf(call: Call, letter_id: str) -> Response:
    item = table.get(keys.dev_letter(letter_id))
    if not item:
        raise not_found("Письмо", neuter=True)
    return Response(body=base64.b64decode(item["pdf"]), status_code=200, headers={
        "Content-Type": "application/pdf", "Cache-Control": "no-store",
        "Content-Disposition": f'inline; filename="letter-{letter_id}.pdf"'})
