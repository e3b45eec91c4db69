"""The receipt of a successful payment (PY-4): a signed PDF in "Мои документы", linked from the payment."""

from __future__ import annotations

from typing import Any

from chalicelib.core import clock
from chalicelib.documents import pdf
from chalicelib.payments import money

METHOD_TITLES = {"card": "Банковская карта", "sbp": "СБП", "wallet": "Электронный кошелёк",
                 "bank_transfer": "Банковский перевод"}
KIND_TITLES = {"tax": "Налог", "fine": "Штраф", "duty": "Госпошлина", "utility": "ЖКУ"}


def what(payment: dict[str, Any]) -> str:
    """What a payment is for, in a notice or a journal line: the one charge's title, or how many charges."""
    items = payment["items"]
    return items[0]["title"] if len(items) == 1 else f"{len(items)} начисления"


def layout(payment: dict[str, Any]) -> pdf.Layout:
    paid = clock.ru(clock.from_iso(payment["paid_at"])) if payment.get("paid_at") else ""
    rows = [("Номер платежа", payment["id"]), ("Дата и время (МСК)", paid),
            ("Сумма", money.rub(payment["amount"])), ("Способ оплаты", METHOD_TITLES[payment["method"]])]
    if payment.get("card_mask"):
        rows.append(("Карта", payment["card_mask"]))
    rows.append(("Номер операции у эквайера", payment.get("acquirer_ref") or ""))
    sections = [pdf.Section(heading="Платёж", rows=rows)]
    for n, item in enumerate(payment["items"], 1):
        r = item["recipient"]
        sections.append(pdf.Section(heading=f"{n}. {item['title']}", rows=[
            ("УИН", item["uin"]), ("Вид", KIND_TITLES[item["kind"]]), ("Сумма", money.rub(item["amount"])),
            ("Получатель", r["name"]), ("ИНН / КПП", f"{r['inn']} / {r['kpp']}"), ("Счёт", r["account"]),
            ("Банк получателя", r["bank"]), ("БИК", r["bic"]), ("КБК", r["kbk"]), ("ОКТМО", r["oktmo"])]))
    return pdf.Layout(title="Квитанция об оплате", subtitle="Госуслуги: платёж принят банком", sections=sections)
