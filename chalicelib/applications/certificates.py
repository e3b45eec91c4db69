"""Certificates and extracts the system issues automatically (SV-9): what each kind needs from the profile and
what it says. The facts come from the person's profile; answers from state registries (SMEV) would plug in
here as an adapter — until then the statements are the ones a clean record gets."""

from __future__ import annotations

from typing import Any

from chalicelib.core import clock
from chalicelib.documents import pdf
from chalicelib.identity.numbers import show_date, show_snils
from chalicelib.identity.users import full_name

# kind → profile fields it needs (attribute, Russian name) and the statement it certifies.
KINDS: dict[str, tuple[tuple[tuple[str, str], ...], str]] = {
    "tax_debt": ((("inn", "ИНН"),),
                 "Неисполненная обязанность по уплате налогов, сборов, страховых взносов, пеней, штрафов, процентов "
                 "по состоянию на дату формирования справки отсутствует."),
    "egrip": ((("inn", "ИНН"),),
              "Сведения о государственной регистрации физического лица в качестве индивидуального предпринимателя "
              "в Едином государственном реестре индивидуальных предпринимателей на дату выписки отсутствуют."),
    "income_2ndfl": ((("inn", "ИНН"),),
                     "Сведения о доходах физического лица и суммах налога на доходы физических лиц представлены "
                     "налоговыми агентами и отражены в личном кабинете налогоплательщика."),
    "self_employed": ((("inn", "ИНН"),),
                      "Физическое лицо состоит на учёте в качестве налогоплательщика налога "
                      "на профессиональный доход."),
    "pension_account": ((("snils", "СНИЛС"),),
                        "Сведения о трудовой деятельности и страховых взносах отражены на индивидуальном лицевом "
                        "счёте застрахованного лица."),
    "pension_amount": ((("snils", "СНИЛС"),),
                       "Сведения о назначенных выплатах сформированы по данным Социального фонда России."),
    "sfr_registration": ((("snils", "СНИЛС"),),
                         "Лицо зарегистрировано в системе индивидуального (персонифицированного) учёта."),
}
GENERIC = ((), "Сведения сформированы по данным учётной записи заявителя.")


def _needs(service: Any) -> tuple[tuple[tuple[str, str], ...], str]:
    return KINDS.get(service.certificate_kind or "", GENERIC)


# Who the certificate is about comes from the profile only: a form may not name someone else.
IDENTITY = {"last_name": "фамилия", "first_name": "имя", "middle_name": "отчество", "birth_date": "дата рождения",
            "inn": "ИНН", "snils": "СНИЛС"}


def missing(service: Any, user: dict[str, Any]) -> list[str]:
    """Names of the profile fields the certificate needs and the profile lacks (SV-9: reported as such)."""
    fields, _ = _needs(service)
    return [title for attr, title in fields if not user.get(attr)]


def foreign(user: dict[str, Any], req: dict[str, Any]) -> list[str]:
    """Identity fields of the form that differ from the profile: a certificate is issued about oneself only."""
    params = req.get("params") or {}
    return [title for attr, title in IDENTITY.items()
            if params.get(attr) and str(params[attr]).strip().lower() != str(user.get(attr) or "").strip().lower()]


def layout(service: Any, user: dict[str, Any], req: dict[str, Any]) -> pdf.Layout:
    fields, statement = _needs(service)
    name = full_name(user)
    rows = [("Фамилия, имя, отчество", name)]
    if user.get("birth_date"):
        rows.append(("Дата рождения", show_date(user["birth_date"])))
    rows += [(title, show_snils(user[attr]) if attr == "snils" else str(user[attr])) for attr, title in fields]
    params = req.get("params") or {}
    if params.get("purpose"):
        rows.append(("Цель получения", str(params["purpose"])))
    rows += [("Основание", f"Заявление № {req['number']} от {clock.ru(clock.from_iso(req['submitted_at']))}"),
             ("Выдано", f"{req['agency']['title']}" + (f", {req['department']}" if req.get("department") else ""))]
    return pdf.Layout(title=service.title, subtitle="Документ сформирован автоматически", sections=[
        pdf.Section(heading="Сведения о заявителе", rows=rows),
        pdf.Section(heading="Сведения", paragraphs=[statement]),
    ])
