"""What a signed-in person reads about themselves: profile and login history (AU-9)."""

from __future__ import annotations

import csv
import io
from typing import Any

from chalicelib.core import clock
from chalicelib.core.errors import Invalid
from chalicelib.core.ids import id_bound
from chalicelib.identity.users import load_user
from chalicelib.store import keys, table

_PROFILE_FIELDS = ("user_id", "last_name", "first_name", "middle_name", "phone", "email", "tier", "created_at")
_HISTORY_FIELDS = ("id", "at", "ip", "device_type", "os", "browser", "method", "mfa", "result")
DEVICE_TYPES = ("computer", "phone", "tablet", "unknown")
RESULTS = ("success", "failure", "locked", "timeout", "ip_not_allowed", "blocked")
_RU = {"computer": "Компьютер", "phone": "Телефон", "tablet": "Планшет", "unknown": "Неизвестно",
       "success": "Успешно", "failure": "Ошибка", "locked": "Заблокировано", "timeout": "Завершён по времени",
       "ip_not_allowed": "IP-адрес не разрешён",
       "blocked": "Учётная запись заблокирована", "password": "Пароль", "esign": "Электронная подпись",
       "totp": "Код из приложения",
       "sms": "Код из SMS", "backup": "Резервный код", None: ""}
CSV_LIMIT = 1000


def profile(user_id: str) -> dict[str, Any]:
    user = load_user(user_id)
    return {f: user.get(f) for f in _PROFILE_FIELDS}


def _filters(query: dict[str, str]) -> dict[str, Any]:
    """Query-string filters → Query arguments: dates bound the sort key, the rest filter the page."""
    lo = clock.day_bound_ms(query["from"], "from", end=False) if query.get("from") else 0
    hi = clock.day_bound_ms(query["to"], "to", end=True) if query.get("to") else (1 << 48) - 1
    if lo > hi:
        raise Invalid("VALIDATION_ERROR", "Начало периода позже конца", {"from": "Позже даты «по»"})
    bounds = (keys.login_event_sk(id_bound(lo, False)), keys.login_event_sk(id_bound(hi, True)))
    args: dict[str, Any] = {"sk_between": bounds}
    conds, values, names = [], {}, {}
    for field, allowed in (("device_type", DEVICE_TYPES), ("result", RESULTS)):
        value = query.get(field)
        if value is None:
            continue
        if value not in allowed:
            raise Invalid("VALIDATION_ERROR", "Недопустимое значение фильтра",
                           {field: f"Допустимо: {', '.join(allowed)}"})
        conds.append(f"#{field} = :{field}")
        values[f":{field}"] = value
        names[f"#{field}"] = field
    if conds:
        args.update(filter_expr=" AND ".join(conds), filter_values=values, filter_names=names)
    return args


def login_history(user_id: str, query: dict[str, str], limit: int = 20) -> dict[str, Any]:
    page = table.query(keys.user_pk(user_id), cursor=query.get("cursor"), limit=limit, **_filters(query))
    return {"items": [{f: item.get(f) for f in _HISTORY_FIELDS} for item in page.items], "cursor": page.cursor}


def login_history_csv(user_id: str, query: dict[str, str]) -> str:
    """AU-9 export: UTF-8, a header row, times as dd.mm.yyyy hh:mm:ss (Moscow)."""
    rows: list[dict[str, Any]] = []
    cursor = None
    while len(rows) < CSV_LIMIT:
        page = table.query(keys.user_pk(user_id), cursor=cursor, limit=200, **_filters(query))
        rows.extend(page.items)
        cursor = page.cursor
        if not cursor:
            break
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Дата и время (МСК)", "IP-адрес", "Устройство", "ОС", "Браузер", "Способ входа",
                     "Второй фактор", "Результат"])
    for r in rows[:CSV_LIMIT]:
        writer.writerow([clock.ru(clock.from_iso(r["at"])), r.get("ip") or "", _RU.get(r["device_type"]), r["os"],
                         r["browser"], _RU.get(r["method"], r["method"]), _RU.get(r.get("mfa")),
                         _RU.get(r["result"], r["result"])])
    return out.getvalue()
