"""An application's journal as a signed PDF (SV-6: "journal exportable as PDF")."""

from __future__ import annotations

from typing import Any

from chalicelib.applications import statuses
from chalicelib.core import clock
from chalicelib.documents import issue, pdf

KINDS = {"status": "Смена статуса", "comment": "Комментарий", "routed": "Маршрутизация",
         "signature": "Подписано электронной подписью"}
CELL = 400  # characters of a comment a table cell shows: a table row must fit on one page


def render(detail: dict[str, Any]) -> bytes:
    rows = []
    for line in detail["journal"]:
        what = KINDS.get(line["kind"], line["kind"])
        if line["kind"] == "status":
            what = f"{what}: {statuses.TITLES.get(line['to'], line['to'])}"
        actor = line["actor"]
        who = actor["name"] + (f" ({actor['department']})" if actor.get("department") else "")
        text = line.get("text") or ""
        rows.append([clock.ru(clock.from_iso(line["at"])), what, who,
                     text if len(text) <= CELL else text[:CELL].rstrip() + "… (полностью — в личном кабинете)"])
    facts = [("Номер", detail["number"] or "черновик"), ("Услуга", detail["service_title"]),
             ("Ведомство", detail["agency"]["title"]), ("Статус", detail["status_title"]),
             ("Подано", clock.ru(clock.from_iso(detail["submitted_at"])) if detail["submitted_at"] else "—"),
             ("Срок рассмотрения", detail["expected_by"] or "—")]
    layout = pdf.Layout(title=f"Журнал заявления № {detail['number'] or '—'}", subtitle=detail["service_title"],
                        sections=[pdf.Section(heading="Заявление", rows=facts),
                                  pdf.Section(heading="История", table=pdf.Table(
                                      header=["Дата и время (МСК)", "Событие", "Кто", "Комментарий"], rows=rows,
                                      widths=[2.2, 2.6, 2.6, 4.0]))])
    return issue.export(layout)
