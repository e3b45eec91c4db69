"""Request and response bodies of payments (PY-1..PY-5): amounts are integer kopecks, dates ISO, states enums."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from chalicelib.core.models import Cursor, Day, DayFilter, Id, Moment, Out, Query, Strict, absent, pattern
from chalicelib.payments import rules

UIN_PATTERN = r"^(?:[0-9]{20}|[0-9]{25})$"
IDEMPOTENCY_PATTERN = r"^[A-Za-z0-9-]{1,255}$"
Uin = Annotated[str, pattern(UIN_PATTERN, "УИН — 20 или 25 цифр")]
Kopecks = Annotated[int, Field(ge=0, le=10**15)]
Kind = Literal["tax", "fine", "duty", "utility"]
Method = Literal["card", "sbp", "wallet", "bank_transfer"]
Status = Literal["created", "confirmed", "started", "success", "failed", "cancelled", "status_unknown", "refunded"]
DebtStatus = Literal["active", "partly_paid", "closed"]


class RecipientOut(Out):
    name: str
    inn: str
    kpp: str
    account: str
    bic: str
    bank: str
    kbk: str
    oktmo: str


class FineOut(Out):
    decision_number: str
    decision_date: Day
    article: str
    offence: str
    place: str
    vehicle: str | None = absent()
    camera_url: str
    discount_until: Day | None = absent(description="Последний день скидки 50 % (КоАП РФ ст. 32.2 ч. 1.3)")
    discounted_amount: Kopecks | None = absent(description="Сумма со скидкой, пока она действует")


class TaxOut(Out):
    tax: Literal["ndfl", "property", "transport", "sole_trader"]
    period: str
    object: str | None = absent()


class UtilityLineOut(Out):
    service: str
    consumption: str
    unit: str
    tariff: Kopecks
    amount: Kopecks


class UtilityOut(Out):
    account: str
    period: str
    provider: str
    lines: list[UtilityLineOut]


class DutyOut(Out):
    purpose: str


class DebtOut(Out):
    uin: Uin
    kind: Kind
    title: str
    amount: Kopecks
    remaining: Kopecks
    to_pay: Kopecks = Field(description="Сколько заплатить сейчас: остаток, для штрафа в срок скидки — половина")
    due_date: Day | None
    issued_on: Day
    status: DebtStatus
    paying: bool = Field(description="Идёт оплата этого начисления: второй платёж не начнётся")
    payment_id: Id | None = absent()
    disputed: bool
    request_id: Id | None = absent(description="Заявление об обжаловании штрафа")
    recipient: RecipientOut
    found_by: str
    fine: FineOut | None = absent()
    tax: TaxOut | None = absent()
    utility: UtilityOut | None = absent()
    duty: DutyOut | None = absent()


class LimitsOut(Out):
    card: Kopecks
    sbp: Kopecks
    wallet: Kopecks
    bank_transfer: Kopecks


class DebtsOut(Out):
    items: list[DebtOut]
    limits: LimitsOut = Field(description="Наибольшая сумма одной операции по способам оплаты, в копейках")
    unavailable: bool = Field(description="ГИС ГМП не ответила: показаны последние известные данные или ничего")


class DebtsQuery(Query):
    kind: Kind | None = None
    due_from: DayFilter | None = Field(default=None, alias="from", description="Срок оплаты с этого дня")
    due_to: DayFilter | None = Field(default=None, alias="to", description="Срок оплаты по этот день")
    status: DebtStatus | None = None
    driving_licence: str | None = Field(default=None, max_length=20)
    vehicle_certificate: str | None = Field(default=None, max_length=20)
    utility_account: str | None = Field(default=None, max_length=30)
    uin: str | None = Field(default=None, max_length=30)


class PaymentIn(Strict):
    uins: list[Uin] = Field(min_length=1, max_length=rules.MAX_UINS)
    method: Method
    card_id: Id | None = None
    save_card: bool = False


class ConfirmIn(Strict):
    code: Annotated[str, pattern(r"^[0-9]{6}$", "Код — 6 цифр")]


class ItemOut(Out):
    uin: Uin
    kind: Kind
    title: str
    amount: Kopecks
    recipient: RecipientOut


class CardOut(Out):
    id: Id
    mask: str
    expiry: str
    brand: str
    added_at: Moment


class ConfirmationOut(Out):
    method: Literal["sms", "email", "totp"]
    to: str | None = absent(description="Куда отправлен код (скрыто частично)")
    expires_at: Moment
    attempts_left: int


class PaymentOut(Out):
    id: Id
    status: Status
    finished: bool
    amount: Kopecks
    method: Method
    items: list[ItemOut]
    created_at: Moment
    expires_at: Moment | None = absent(description="Неоплаченный платёж отменяется после этого времени")
    confirmation: ConfirmationOut | None = absent()
    redirect_url: str | None = absent(description="Страница оплаты у эквайера")
    acquirer_ref: str | None = absent()
    card: str | None = absent(description="Маскированный номер карты")
    paid_at: Moment | None = absent()
    reason: str | None = absent()
    reason_text: str | None = absent()
    receipt_document_id: Id | None = absent()
    refunded_amount: Kopecks | None = absent()


class PaymentsOut(Out):
    items: list[PaymentOut]
    cursor: Cursor


class HistoryQuery(Query):
    day_from: DayFilter | None = Field(default=None, alias="from", description="С этого дня (МСК)")
    day_to: DayFilter | None = Field(default=None, alias="to", description="По этот день включительно (МСК)")
    kind: Kind | None = None
    status: Literal["successful", "rejected", "processing"] | None = None
    cursor: str | None = pattern(r"^[A-Za-z0-9_-]*$", "Курсор — из ответа с предыдущей страницей", default=None,
                                 max_length=600, description="Курсор следующей страницы (base64url)")


class CardsOut(Out):
    items: list[CardOut]


class StartedOut(Out):
    redirect_url: str


class DisputeIn(Strict):
    grounds: str = Field(min_length=10, max_length=4000, description="Доводы жалобы")
    attachments: list[Id] = Field(default_factory=list, max_length=10,
                                  description="Свои проверенные документы: фото, объяснения, договор")


class DisputeOut(Out):
    request_id: Id
    number: str | None


class WebhookOut(Out):
    status: Literal["applied", "ignored"]
