"""A second factor added to a session that was opened with one (issue 15: a system asks for the confirmed level of
assurance). The code goes by SMS to the account's confirmed phone, or comes from the authenticator app when one is
connected; the session then records the factor (`mfa`), which raises its `acr` and adds to its `amr`.

SMS codes are one-time codes (identity.otp: hashed, 5 minutes, 5 tries charged before comparing, a new one after
60 s); TOTP and backup codes are checked by identity.mfa (single use) under the same wrong-code budget.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core.errors import Invalid, not_found
from chalicelib.core.origin import Origin
from chalicelib.identity import mfa, otp
from chalicelib.store import journal, keys, table
from chalicelib.store.table import Change, ConditionFailed, Tx

PURPOSE = "step_up"


def methods(user: dict[str, Any]) -> list[str]:
    """SMS whenever the account has a phone (it was confirmed), plus the authenticator app when connected."""
    out = ["sms"] if user.get("phone") else []
    return out + [m for m in mfa.methods(user) if m != "sms"]


def _load(user_id: str, session_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    user, session = table.get_many([keys.user(user_id), keys.session(user_id, session_id)])
    if user is None or session is None or session.get("revoked_at"):
        raise not_found("Сеанс")
    return user, session


def send(user_id: str, session_id: str, origin: Origin) -> dict[str, Any]:
    user, _ = _load(user_id, session_id)
    if not user.get("phone"):
        raise Invalid("STEP_UP_NO_PHONE", "К учётной записи не привязан телефон", {"method": "Нет телефона"})
    tx = Tx()
    sent = otp.issue(tx, user_id, PURPOSE, "sms", user["phone"])
    otp.commit_issue(tx, origin.ip)
    return sent


def confirm(user_id: str, session_id: str, method: str, code: str, origin: Origin) -> str:
    """Check the code and record the factor on the session in one transaction; returns the factor."""
    user, _ = _load(user_id, session_id)
    if method not in methods(user):
        raise Invalid("MFA_METHOD_UNAVAILABLE", "Этот способ подтверждения не подключён",
                      {"method": "Способ не подключён"})
    tx = Tx()
    if method == "sms":
        otp.verify(user_id, PURPOSE, code, tx, origin.ip)
    else:  # the account's wrong-code budget is spent before the comparison, and given back by a right code
        budget = mfa.spend_try(user, origin)
        change = Change()
        mfa.check_code(user, method, code, change)
        change.apply(tx, keys.user(user_id))
        mfa.refund_budget(tx, budget)
    factor = "totp" if method == "backup" else method
    tx.update(keys.session(user_id, session_id), "SET mfa = :m", cond="attribute_exists(pk) AND "
              "attribute_not_exists(revoked_at)", values={":m": factor})
    journal.audit(tx, keys.user_pk(user_id), "session.stepped_up", user_id, origin.ip, session_id=session_id,
                  method=method)
    try:
        tx.commit()
    except ConditionFailed as exc:
        if exc.tag == "code_used":
            raise Invalid("CODE_INVALID", "Код уже использован или заменён новым", {"code": "Неверный код"}) from None
        raise not_found("Сеанс") from None
    return factor
