"""One-click unsubscribing from a type of e-mail (RFC 8058) through a signed link that needs no sign-in.

Every non-security e-mail carries `List-Unsubscribe: <…/mail/unsubscribe?token=…>` with
`List-Unsubscribe-Post: List-Unsubscribe=One-Click`, so a mail program can unsubscribe with one POST, and a link
in the text to a page that asks first. The token is an Ed25519-signed claim (user, type, channel) valid for a
year; using it twice changes nothing. Security e-mail has no link: it cannot be switched off.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from chalicelib.core import tokens
from chalicelib.core.config import settings
from chalicelib.core.errors import invalid, not_found
from chalicelib.notify import preferences, types
from chalicelib.store import journal, keys, table
from chalicelib.store.table import ConditionFailed, Tx

PURPOSE = "unsubscribe"
TTL = 365 * 24 * 3600


def links(user_id: str, notice_type: str) -> tuple[str, str] | None:
    """(one-click URL, page URL) for an e-mail of `notice_type`; None for security e-mail."""
    if notice_type in types.LOCKED or notice_type not in types.TITLES:
        return None
    token, _ = tokens.issue_purpose(user_id, PURPOSE, TTL, nt=notice_type, ch="email")
    base = settings().public_url
    return f"{base}/mail/unsubscribe?token={quote(token)}", f"{base}/unsubscribe?token={quote(token)}"


def read(token: str) -> dict[str, Any]:
    """What the token would switch off: {"user_id", "type", "title", "channel"}; a refusal when it is not valid."""
    claims = tokens.verify_purpose(token, PURPOSE)
    if not claims or claims.get("nt") not in types.TITLES or claims["nt"] in types.LOCKED:
        raise invalid({"token": "Ссылка для отписки недействительна или устарела. Настроить уведомления можно "
                                "в личном кабинете"})
    return {"user_id": claims["sub"], "type": claims["nt"], "title": types.TITLES[claims["nt"]], "channel": "email"}


def apply(token: str, ip: str | None) -> dict[str, Any]:
    what = read(token)
    switch_off(what["user_id"], what["type"], "email", actor="unsubscribe-link", ip=ip)
    return {"type": what["type"], "title": what["title"], "channel": "email"}


def switch_off(user_id: str, notice_type: str, channel: str, actor: str, ip: str | None = None) -> None:
    """Turn one type's channel off, keeping every other setting (a complaint does this too)."""
    if notice_type in types.LOCKED:
        return
    user = table.get(keys.user(user_id))
    if user is None:
        raise not_found("Учётная запись", neuter=True)
    prefs = preferences.effective(user)
    setting = prefs["types"][notice_type]
    if not setting["channels"].get(channel):
        return  # already off: the second click changes nothing
    prefs["types"][notice_type] = {**setting, "channels": {**setting["channels"], channel: False}}
    stored = preferences.stored(prefs)
    tx = Tx().update(keys.user(user_id), "SET notify_prefs = :p", cond="attribute_exists(pk)", values={":p": stored})
    journal.audit(tx, keys.user_pk(user_id), "notification.unsubscribed", actor, ip, type=notice_type,
                  channel=channel)
    try:
        tx.commit()
    except ConditionFailed:
        raise not_found("Учётная запись", neuter=True) from None
