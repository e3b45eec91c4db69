"""ID-6: the tier each service needs, as the sources describe it (docs/catalog.md, "Tiers per service").

The expectations are written out here, service by service, from ../shared/REQUIREMENTS.md and the seed
documents, and are never read from services.json or the catalog module: the test compares two independent
statements of the same rule. Seed files are named by their number ([000] = seeds/000_….txt).
"""

from __future__ import annotations

from chalicelib.catalog import services
from chalicelib.store import keys, table

SIMPLIFIED, STANDARD, CONFIRMED = "simplified", "standard", "confirmed"

SOURCED: dict[str, str] = {
    # Документы. [003] confirmed tier: «оформлять электронные паспорта»; [003] «Роль…»: «После подтверждения
    # личности… подача заявлений на получение паспортов, водительских прав, пособий»; [000] «Подтверждение
    # личности»: «подача заявлений от имени физического лица»; [002] КЭП: «заявление о выдаче ИНН».
    "passport-replace-age": CONFIRMED,
    "passport-lost": CONFIRMED,
    "foreign-passport-old": CONFIRMED,
    "foreign-passport-new": CONFIRMED,
    "driving-licence-replace": CONFIRMED,
    "residence-registration": CONFIRMED,
    "stay-registration": CONFIRMED,
    "vehicle-registration": CONFIRMED,
    "inn-certificate": CONFIRMED,
    # Оплата. Fines and duties: [000] «Штрафы ГИБДД», [004] 3.3 — only signing in; [003] simplified list:
    # «оформить онлайн‑платежи в пользу государственных органов». OSAGO: [003] simplified list. Taxes: [000]
    # «Налоговые платежи»: «используя подтверждённый аккаунт»; [003] confirmed: «управлять налоговыми обязательствами».
    "osago": SIMPLIFIED,
    "traffic-fines-payment": SIMPLIFIED,
    "tax-payment": CONFIRMED,
    "state-duty-payment": SIMPLIFIED,
    "state-duty-refund": CONFIRMED,
    # Заявления. Applications on one's own behalf need identity confirmation ([000], [003] «Роль…», [003] confirmed:
    # «большинство государственных процедур», «заявок на получение… субсидий»; [002] КЭП: «подача налоговых
    # деклараций»). Appointments and appeals do not: [003] «Запись к врачу» (login, password, confirmed e-mail),
    # [003] simplified list «Подать жалобу, запросить ответ от государственных органов», [000] «Обращения».
    "traffic-fine-appeal": CONFIRMED,
    "tax-deduction": CONFIRMED,
    "income-declaration": CONFIRMED,
    "housing-subsidy": CONFIRMED,
    "child-benefit": CONFIRMED,
    "maternity-capital": CONFIRMED,
    "maternity-capital-use": CONFIRMED,
    "sole-trader-registration": CONFIRMED,
    "sole-trader-changes": CONFIRMED,
    "sole-trader-closure": CONFIRMED,
    "reports-fns": CONFIRMED,
    "reports-sfr": CONFIRMED,
    "doctor-appointment": SIMPLIFIED,
    "complaint": SIMPLIFIED,
    "citizen-appeal": SIMPLIFIED,
    "self-employed-registration": CONFIRMED,
    "resident-parking": CONFIRMED,
    "kindergarten": CONFIRMED,
    # Справки. [003] confirmed: «подачу заявлений и заявок на получение справок»; «получать выписки о пенсионных
    # начислениях»; [000] «Получение справок и выписок»: «Для получения любой справки… используя подтверждённый
    # аккаунт».
    "no-criminal-record": CONFIRMED,
    "tax-debt": CONFIRMED,
    "egrn-extract": CONFIRMED,
    "egrip-extract": CONFIRMED,
    "pension-account": CONFIRMED,
    "pension-amount": CONFIRMED,
    "income-2ndfl": CONFIRMED,
    "self-employed-certificate": CONFIRMED,
    "sfr-registration": CONFIRMED,
    "drug-offence-certificate": CONFIRMED,
}

TAX_DEBT = {"kind": "tax_debt", "last_name": "Кузнецов", "first_name": "Алексей", "inn": "500100732259",
            "as_of": "2026-11-01", "variant": "balance"}
APPOINTMENT = {"last_name": "Кузнецов", "first_name": "Алексей", "birth_date": "1985-04-12",
               "oms_policy": "1234567890123456", "specialty": "therapist", "phone": "+79161234567"}


def test_every_service_needs_the_tier_the_sources_describe():
    loaded = {s.id: s.tier for s in services.all_services()}
    assert set(loaded) == set(SOURCED), "a service was added or removed: source its tier here and in docs/catalog.md"
    wrong = {i: (loaded[i], SOURCED[i]) for i in SOURCED if loaded[i] != SOURCED[i]}
    assert wrong == {}, "service: (catalog, sources)"


def test_six_services_are_open_to_a_new_account_and_36_are_not():
    """The issue's "36 of the 42 services are closed to every new account" (a new account is simplified, ID-6),
    and the sources name no service at the standard tier: passing the registry checks opens none by itself."""
    catalog = services.all_services()
    assert len(catalog) == 42
    open_to = {t: sorted(s.id for s in catalog if services.tier_allows(t, s.tier)) for t in (SIMPLIFIED, STANDARD)}
    assert open_to[SIMPLIFIED] == ["citizen-appeal", "complaint", "doctor-appointment", "osago", "state-duty-payment",
                                   "traffic-fines-payment"]
    assert open_to[STANDARD] == open_to[SIMPLIFIED]
    assert sum(1 for s in catalog if not services.tier_allows(SIMPLIFIED, s.tier)) == 36


def test_a_simplified_account_is_refused_above_its_tier_and_served_at_it(api):
    person = api.register()
    token = person["access_token"]
    refused = api.post("/requests", {"type": "certificate", "params": TAX_DEBT}, token=token)
    assert refused.status_code == 403, refused.json
    error = refused.json["error"]
    assert error["code"] == "TIER_REQUIRED" and (error["required"], error["current"]) == (CONFIRMED, SIMPLIFIED)
    assert error["message"] == "Для услуги нужна Подтверждённая учётная запись, у вас — Упрощённая"
    assert api.get("/requests", token=token).json["items"] == []  # nothing was kept

    served = api.post("/requests", {"type": "doctor-appointment", "params": APPOINTMENT}, token=token)
    assert served.status_code == 201, served.json
    assert served.json["status"] == "submitted"

    # Checked data (standard) is not enough either; the refusal names the account's tier, not the token's.
    table.update(keys.user(person["user_id"]), "SET tier = :t", values={":t": STANDARD})
    still = api.post("/requests", {"type": "certificate", "params": TAX_DEBT}, token=token)
    assert still.status_code == 403 and (still.json["error"]["required"], still.json["error"]["current"]) == (
        CONFIRMED, STANDARD)
    # Confirmed: served at once, though the access token still says simplified (the account's tier is read).
    table.update(keys.user(person["user_id"]), "SET tier = :t", values={":t": CONFIRMED})
    done = api.post("/requests", {"type": "certificate", "params": TAX_DEBT}, token=token)
    assert done.status_code == 201, done.json
