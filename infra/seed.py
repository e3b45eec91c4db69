"""Demo data for the local cloud: people a newcomer can sign in as right away, and an officer per agency."""

from __future__ import annotations

import contextlib

from chalicelib.identity.accounts import add_account
from chalicelib.payments import reminders
from chalicelib.store.table import ConditionFailed, Tx

DEMO_PASSWORD = "Zima#Leto57!"
DEMO_USERS = [
    {"last_name": "Иванов", "first_name": "Иван", "middle_name": "Петрович", "tier": "confirmed",
     "logins": {"phone": "+79990000001", "email": "ivanov@example.ru", "snils": "11223344595", "inn": "500100732259"},
     "birth_date": "1985-04-12", "sex": "male", "birth_place": "г. Москва",
     "passport": {"series": "4510", "number": "123456", "issued_at": "2015-05-20",
                  "issued_by": "ОУФМС России по г. Москве по району Хамовники", "division_code": "770-001"},
     "address": "г. Москва, ул. Тверская, д. 1, кв. 1"},
    {"last_name": "Смирнова", "first_name": "Анна", "middle_name": "Сергеевна",
     "logins": {"phone": "+79990000002"}},
]
# One officer per agency of the catalog: phone +7999100000N, the same demo password.
DEMO_OFFICERS = [
    ("mvd", "Петров", "Сергей", "Информационный центр ГУ МВД"),
    ("gibdd", "Орлова", "Мария", "МРЭО Госавтоинспекции"),
    ("fns", "Соколов", "Андрей", "Межрайонная ИФНС"),
    ("sfr", "Козлова", "Елена", "Клиентская служба СФР"),
    ("rosreestr", "Морозов", "Дмитрий", "Управление Росреестра"),
    ("minzdrav", "Волкова", "Ольга", "Регистратура поликлиники"),
    ("regional", "Лебедев", "Павел", "Департамент социальной защиты"),
    ("cbr", "Никитина", "Ирина", "Служба по защите прав потребителей"),
]


# Service-centre (МФЦ) operators who confirm identity in person (ID-7): phone +7999200000N.
DEMO_OPERATORS = [
    ("Кузнецова", "Татьяна", "МФЦ «Мои документы» района Хамовники"),
    ("Васильев", "Игорь", "МФЦ «Мои документы» района Тверской"),
]


def operator_phone(n: int) -> str:
    return f"+7999200000{n}"


def officer_phone(n: int) -> str:
    return f"+7999100000{n}"


def add_operator(*, last_name: str, first_name: str, office: str, phone: str, password: str) -> bool:
    """A service-centre operator: never created by self-registration. False when the phone is taken."""
    tx = Tx()
    add_account(tx, last_name=last_name, first_name=first_name, middle_name=None, logins={"phone": phone},
                password=password, role="operator", office=office)
    try:
        tx.commit()
    except ConditionFailed:
        return False
    return True


def add_officer(*, agency: str, last_name: str, first_name: str, department: str, phone: str,
                password: str, middle_name: str | None = None) -> bool:
    """An agency officer (SV-11): never created by self-registration. False when the phone is taken."""
    tx = Tx()
    add_account(tx, last_name=last_name, first_name=first_name, middle_name=middle_name, logins={"phone": phone},
                password=password, role="officer", agency=agency, department=department)
    try:
        tx.commit()
    except ConditionFailed:
        return False
    return True


# -- news (NT-4; docs/news.md): an editor (phone +7999300000N) and a few publications of the archive --
DEMO_EDITORS = [("Белова", "Наталья", "Редакция портала госуслуг")]
DEMO_NEWS = [
    ("Пенсии проиндексированы с 1 января",
     "Страховые пенсии неработающих пенсионеров проиндексированы. Перерасчёт сделан автоматически, "
     "заявление подавать не нужно.\n\nСумму новой выплаты можно узнать в выписке из СФР.", ["pensions"]),
    ("Справку о несудимости можно получить без визита в ведомство",
     "Заявление подаётся в разделе «Услуги», готовая справка с электронной подписью приходит в «Мои документы».",
     ["certificates"]),
    ("Срок уплаты имущественных налогов — 1 декабря",
     "Налоговые уведомления уже в личном кабинете. Оплатить налоги можно в разделе «Платежи» банковской картой "
     "или через СБП.", ["taxes"]),
    ("Запись к врачу и штрафы ГИБДД: что нового",
     "Запись к врачу теперь показывает свободное время на две недели вперёд, а штрафы приходят с сведениями о "
     "скидке за раннюю оплату.", ["health", "vehicles"]),
]


def editor_phone(n: int) -> str:
    return f"+7999300000{n}"


def add_editor(*, last_name: str, first_name: str, office: str, phone: str, password: str) -> bool:
    """A news editor (NT-4): never created by self-registration. False when the phone is taken."""
    tx = Tx()
    add_account(tx, last_name=last_name, first_name=first_name, middle_name=None, logins={"phone": phone},
                password=password, role="editor", office=office)
    try:
        tx.commit()
    except ConditionFailed:
        return False
    return True


def seed_news() -> int:
    """The demo editor and, on a fresh cloud (the archive empty), the demo publications; returns how many."""
    from chalicelib.news import publications

    for n, (last, first, office) in enumerate(DEMO_EDITORS):
        add_editor(last_name=last, first_name=first, office=office, phone=editor_phone(n), password=DEMO_PASSWORD)
    if publications.archive()["items"]:
        return 0
    for title, text, topics in DEMO_NEWS:
        publications.publish(publications.ADMIN, title, text, topics, None)
    return len(DEMO_NEWS)


def calendar_demo(user_id: str) -> None:
    """The demo citizen's calendar (NT-5) shows several categories at once: the password's expiry (written with
    the account), the debts' due dates from ГИС ГМП (as the daily run writes them), a certificate of the kind
    "Мои документы" keeps with its validity, and an application's deadline."""
    from datetime import timedelta

    from chalicelib.adapters import gisgmp
    from chalicelib.calendar import items
    from chalicelib.core import clock, workdays
    from chalicelib.payments import debts

    user, marks = debts.account_and_marks(user_id)
    with contextlib.suppress(gisgmp.GisGmpUnavailable):
        if user:
            reminders.calendar_due_dates(user_id, gisgmp.search(debts.identifiers(user)), marks)
    today = clock.moscow_today()
    tx = Tx()
    items.put(tx, user_id, "document", "demo-medical", (today + timedelta(days=25)).isoformat(),
              "Медицинская справка для водителя", "/my-documents")
    items.put(tx, user_id, "application", "demo-application",
              workdays.expected_by(clock.now(), 5).isoformat(), "Справка о наличии (отсутствии) судимости",
              "/applications")
    with contextlib.suppress(ConditionFailed):
        tx.commit()


def seed() -> list[str]:
    """Create the demo accounts (skipping any that exist); returns the citizens' logins."""
    created = []
    for person in DEMO_USERS:
        tx = Tx()
        user = add_account(tx, password=DEMO_PASSWORD, **person)
        if user.get("inn") or user.get("snils"):
            reminders.watch(tx, user["user_id"])  # checked identifiers: the daily run reminds of due debts
        try:
            tx.commit()
        except ConditionFailed:
            pass  # seeded before
        else:
            if user.get("inn") or user.get("snils"):
                calendar_demo(user["user_id"])
        created.append(person["logins"]["phone"])
    for n, (agency, last, first, department) in enumerate(DEMO_OFFICERS):
        add_officer(agency=agency, last_name=last, first_name=first, department=department,
                    phone=officer_phone(n), password=DEMO_PASSWORD)
    for n, (last, first, office) in enumerate(DEMO_OPERATORS):
        add_operator(last_name=last, first_name=first, office=office, phone=operator_phone(n), password=DEMO_PASSWORD)
    seed_news()  # news (NT-4)
    return created
