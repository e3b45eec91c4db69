"""Exports a person takes away (PY-1, PY-5): the debts as CSV or PDF, the payment history as CSV, XLSX or PDF.

CSV is UTF-8 with a BOM and `;` between fields, what Russian Excel and LibreOffice open without an import dialog;
amounts are rubles with a decimal comma in the texts, kopecks as integers in the XLSX (a number cell formatted as
rubles, so a spreadsheet sums them right). Times are Moscow, DD.MM.YYYY HH:MM:SS.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from chalicelib.core import clock
from chalicelib.documents import issue, pdf
from chalicelib.payments import debts, history, money
from chalicelib.payments.receipt import KIND_TITLES, METHOD_TITLES

STATUS_TITLES = {"success": "Успешно", "failed": "Отклонён", "cancelled": "Отменён", "refunded": "Возвращён",
                 "created": "Ждёт подтверждения", "confirmed": "В обработке", "started": "В обработке",
                 "status_unknown": "В обработке"}
DEBT_STATUS_TITLES = {"active": "К оплате", "partly_paid": "Оплачено частично", "closed": "Оплачено"}
HISTORY_HEADER = ("Дата и время (МСК)", "Номер платежа", "Что оплачено", "Вид", "Получатель", "УИН", "Сумма",
                  "Способ", "Статус")
DEBT_HEADER = ("УИН", "Вид", "Начисление", "Сумма", "Остаток", "К оплате сейчас", "Срок оплаты", "Статус",
               "Получатель")


def _day(text: str | None) -> str:
    return date.fromisoformat(text).strftime("%d.%m.%Y") if text else ""


def _history_rows(user_id: str, query: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(payment, item) for each debt of each payment: one line per УИН, as a bank statement lists them."""
    return [(p, item) for p in history.everything(user_id, query) for item in p["items"]]


def _history_line(payment: dict[str, Any], item: dict[str, Any], amount: str) -> list[str]:
    return [clock.ru(clock.from_iso(payment.get("paid_at") or payment["created_at"])), payment["id"], item["title"],
            KIND_TITLES[item["kind"]], item["recipient"]["name"], item["uin"], amount,
            METHOD_TITLES[payment["method"]], STATUS_TITLES[payment["status"]]]


def _csv(header: tuple[str, ...], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return "\ufeff" + out.getvalue()


def history_csv(user_id: str, query: dict[str, Any]) -> str:
    return _csv(HISTORY_HEADER, [_history_line(p, i, money.rub(i["amount"])) for p, i in _history_rows(user_id, query)])


def history_xlsx(user_id: str, query: dict[str, Any]) -> bytes:
    import xlsxwriter  # lazily: only an export pays for it

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("Платежи")
    bold = book.add_format({"bold": True})
    rubles = book.add_format({"num_format": '#,##0.00 "₽"'})
    sheet.write_row(0, 0, HISTORY_HEADER, bold)
    for n, (payment, item) in enumerate(_history_rows(user_id, query), 1):
        line = _history_line(payment, item, "")
        sheet.write_row(n, 0, line)
        sheet.write_number(n, HISTORY_HEADER.index("Сумма"), item["amount"] / 100, rubles)
    sheet.set_column(0, 0, 20)
    sheet.set_column(2, 2, 48)
    sheet.set_column(4, 5, 30)
    book.close()
    return out.getvalue()


def history_pdf(user_id: str, query: dict[str, Any]) -> bytes:
    rows = [[clock.ru(clock.from_iso(p.get("paid_at") or p["created_at"]))[:16], i["title"], i["uin"],
             money.rub(i["amount"]), STATUS_TITLES[p["status"]]] for p, i in _history_rows(user_id, query)]
    layout = pdf.Layout(title="История платежей", subtitle=_period(query), sections=[pdf.Section(
        table=pdf.Table(header=("Дата (МСК)", "Что оплачено", "УИН", "Сумма", "Статус"), rows=rows,
                        widths=(2, 5, 3, 2, 2)))])
    return issue.export(layout)


def _period(query: dict[str, Any]) -> str:
    lo, hi = _day(query.get("day_from") or query.get("due_from")), _day(query.get("day_to") or query.get("due_to"))
    if lo or hi:
        return f"За период {lo or '…'} — {hi or '…'}"
    return "За всё время"


def _debt_rows(user_id: str, query: dict[str, Any]) -> list[dict[str, Any]]:
    return debts.list_debts(user_id, query)["items"]


def debts_csv(user_id: str, query: dict[str, Any]) -> str:
    return _csv(DEBT_HEADER, [[d["uin"], KIND_TITLES[d["kind"]], d["title"], money.rub(d["amount"]),
                               money.rub(d["remaining"]), money.rub(d["to_pay"]), _day(d["due_date"]),
                               DEBT_STATUS_TITLES[d["status"]], d["recipient"]["name"]]
                              for d in _debt_rows(user_id, query)])


def debts_pdf(user_id: str, query: dict[str, Any]) -> bytes:
    rows = [[d["title"], d["uin"], money.rub(d["to_pay"]), _day(d["due_date"]), DEBT_STATUS_TITLES[d["status"]]]
            for d in _debt_rows(user_id, query)]
    layout = pdf.Layout(title="Задолженности", subtitle=f"По данным ГИС ГМП на {clock.ru(clock.now())[:10]}",
                        sections=[pdf.Section(table=pdf.Table(
                            header=("Начисление", "УИН", "К оплате", "Срок", "Статус"), rows=rows,
                            widths=(5, 3, 2, 2, 2)))])
    return issue.export(layout)
