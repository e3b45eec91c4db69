"""Every domain event, declared once: its name, its payload model and the queues that consume it.

Producers emit `catalog.X` (the payload is checked against the model before it enters the outbox), the SNS
filter policies in `infra/resources.py` are built from `types_for(queue)`, and consumers match on the same
objects. No event name is written anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict


class Payload(BaseModel):
    """Payloads are checked when they are emitted: a misspelt field fails in the producer's test, not in a
    worker's DLQ. Consumers read the stored dict (no model on the hot path). A refusal does not quote the values
    (payloads carry phones, e-mails, names and codes; the error would reach the log)."""

    model_config = ConfigDict(extra="forbid", defer_build=True, hide_input_in_errors=True)


class Contacts(Payload):
    """What a notice about the account needs: where to send it and how to greet (users.contacts)."""

    user_id: str
    phone: str | None = None
    email: str | None = None
    first_name: str


class Seen(Contacts):
    ip: str | None = None


class CodeRequested(Payload):
    purpose: str
    channel: str
    to: str
    code: str
    guard_kind: str | None = None  # a login the code would bind: its owner is told instead (ID-5, AU-11)
    guard_value: str | None = None
    value: str | None = None
    notice: str | None = None  # another template instead of the code (recovery of an unknown login)
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None  # a registered letter is addressed by full name (ID-7)


class AccountCreated(Payload):
    user_id: str
    channel: str
    to: str
    first_name: str
    middle_name: str | None = None


class LoginSucceeded(Payload):
    user_id: str
    ip: str | None = None


class LoginFailed(LoginSucceeded):
    count: int


class AccountLocked(Seen):
    until: int


class AtWhen(Seen):
    at: str


class NewDevice(AtWhen):
    device: str


class PasswordExpiring(Contacts):
    expires_at: int


class MfaChanged(Contacts):
    method: str
    enabled: bool
    method_title: str | None = None


class PasskeyChanged(Payload):
    """A passkey added to or removed from the account (AU-4): the owner hears of every change."""

    user_id: str
    name: str
    added: bool
    ip: str | None = None


class IpAllowlist(Contacts):
    cidrs: list[str]


class ContactChanged(Contacts):
    kind: str
    old: str | None = None
    new: str
    old_masked: str | None = None
    new_masked: str


class MfaBlocked(Contacts):
    until: int
    ip: str | None = None


class RequestSubmitted(Payload):
    request_id: str
    user_id: str
    service_id: str
    agency: str
    automatic: bool
    number: str


class RequestStatusChanged(Payload):
    user_id: str
    request_id: str
    number: str | None = None
    service_title: str
    service_id: str | None = None  # the notification filters by the service's kind (NT-3)
    status: str
    status_title: str
    expected_by: str | None = None
    text: str | None = None
    reason: str | None = None
    fix: str | None = None
    result_document_id: str | None = None


class RequestComment(Payload):
    user_id: str
    request_id: str
    number: str | None = None
    service_title: str
    text: str
    author: str


class DocumentRef(Payload):
    user_id: str
    document_id: str


class DocumentIssued(DocumentRef):
    title: str


class DocumentAvailable(DocumentRef):
    version: int


class DocumentRejected(Contacts):
    document_id: str
    filename: str
    reason: str
    category_title: str
    kept_previous: bool


class TierRaised(Payload):
    user_id: str
    tier: str
    tier_title: str
    channel: str
    channel_title: str


class AccountBlocked(Contacts):
    by: str  # operator | owner
    reason: str


class UnblockCase(Contacts):
    case_id: str
    reason: str | None = None


class CheckRequested(Payload):
    """Ask one registry about one submission of personal data (ID-6); a newer submission makes it stale."""

    user_id: str
    submission_id: str
    registry: str


class CheckOutcome(Payload):
    user_id: str
    registry_titles: str  # "МВД России, СФР": the registries the notice is about
    reasons: list[str] = []


class SnilsTried(Payload):
    user_id: str  # the owner of the SNILS or INN, who is told
    kind: str  # snils | inn


class EsignCertificate(Payload):
    """A qualified e-signature certificate of the account (AU-5, DC-5): bound, unbound, or soon to expire."""

    user_id: str
    certificate_id: str
    serial: str
    owner: str
    issuer: str
    until: str  # DD.MM.YYYY (Moscow): the last day it is valid
    days_left: int | None = None


class SessionsEnded(Payload):
    """Sessions that ended (sign-out, ended by the person, sign-out everywhere, blocking): each system a session
    signed into gets an OIDC back-channel logout token (issue 15)."""

    user_id: str
    session_ids: list[str]


class PaymentEvent(Payload):
    """A payment changed (PY-3..PY-5): the worker reads the payment item itself; the texts need these."""

    user_id: str
    payment_id: str
    amount: int  # kopecks
    title: str  # what was paid, for the notice
    status: str
    reason: str | None = None
    acquirer_ref: str | None = None  # the charge a refund returns


class PaymentDue(Payload):
    """A debt's due date is near or past (PY-6)."""

    user_id: str
    uin: str
    title: str
    amount: int
    due_date: str  # DD.MM.YYYY
    days_left: int  # 7, 1, or negative once overdue


# notifications (issue 14): settings, delivery, digests
class ContactUnreachable(Payload):
    """A provider said a contact cannot be reached (permanent failure): the person is told in the inbox."""

    user_id: str
    channel: str  # sms | email
    contact: str  # masked: «+7 999 ***-**-01», «iv***@mail.ru»
    first_name: str


class NotificationTest(Payload):
    """A test notice the person asked for, through the channels their settings switch on for `notice_type`."""

    user_id: str
    notice_type: str
    frequency: str = "immediately"


class DigestItem(Payload):
    title: str
    at: str  # «03.12.2026 14:12:17», Moscow


class NotificationDigest(Payload):
    """The period's held notices of one person, sent once (daily or weekly frequency)."""

    user_id: str
    period: str  # D-2026-12-03 | W-2026-W49
    period_title: str  # «за 03.12.2026» | «за неделю 30.11–06.12.2026»
    count: int
    items: list[DigestItem]
    channels: list[str]
    notice_type: str = "digest"


# -- news (NT-4; docs/news.md) ---------------------------------------------------------------------------------
class NewsPublished(Payload):
    """An editor published: one event, fanned out by the agency worker to the topics' subscribers."""

    publication_id: str
    title: str
    topics: list[str]


class NewsNotice(Payload):
    """One subscriber's notice of a publication (written by the fan-out, exactly once per person)."""

    user_id: str
    publication_id: str
    title: str
    topics_title: str  # «Налоги, Здоровье»: the person's topics the publication is on
    notice_type: str  # always "news": the lead's notify worker reads it (NT-3 settings per type)
    frequency: str  # immediately | daily | weekly: the subscription's, read by the same worker

# -- calendar (NT-5; docs/calendar.md) --
class CalendarReminder(Contacts):
    """A dated thing of the calendar is near: the person's chosen channel only (its contact alone is given)."""

    item_id: str
    category: str
    category_title: str
    title: str
    date: str  # DD.MM.YYYY (Moscow)
    days_left: int
    link: str
    notice_type: str  # "calendar": the lead's worker reads it (settings per notice type)
# -- push devices (NF-3; docs/push.md) --
class DeviceAdded(Payload):
    """A mobile device now receives the account's push notices: the owner hears of it (someone else's phone
    signed in with the password would otherwise read every notice unnoticed)."""

    user_id: str
    device_id: str
    platform: str
    name: str
    notice_type: str = "security"


NOTIFY = "notify"
AGENCY = "agency"


@dataclass(frozen=True)
class EventType:
    name: str
    payload: type[Payload]
    queues: tuple[str, ...] = ()

    def check(self, data: dict[str, Any]) -> None:
        self.payload.model_validate(data)


CODE_REQUESTED = EventType("code.requested", CodeRequested, (NOTIFY,))
ACCOUNT_CREATED = EventType("account.created", AccountCreated, (NOTIFY,))
LOGIN_SUCCEEDED = EventType("login.succeeded", LoginSucceeded)
LOGIN_FAILED = EventType("login.failed", LoginFailed)
ACCOUNT_LOCKED = EventType("account.locked", AccountLocked, (NOTIFY,))
LOGIN_NEW_DEVICE = EventType("login.new_device", NewDevice, (NOTIFY,))
LOGIN_REFUSED_IP = EventType("login.refused_ip", AtWhen, (NOTIFY,))
PASSWORD_CHANGED = EventType("password.changed", Seen, (NOTIFY,))
PASSWORD_RESET = EventType("password.reset", Seen, (NOTIFY,))
PASSWORD_EXPIRING = EventType("password.expiring", PasswordExpiring, (NOTIFY,))
MFA_CHANGED = EventType("mfa.changed", MfaChanged, (NOTIFY,))
PASSKEY_CHANGED = EventType("passkey.changed", PasskeyChanged, (NOTIFY,))
MFA_BLOCKED = EventType("mfa.blocked", MfaBlocked, (NOTIFY,))
SECURITY_NOT_ME = EventType("security.not_me", Seen, (NOTIFY,))
SECURITY_IP_ALLOWLIST = EventType("security.ip_allowlist", IpAllowlist, (NOTIFY,))
CONTACT_CHANGED = EventType("contact.changed", ContactChanged, (NOTIFY,))
REQUEST_SUBMITTED = EventType("request.submitted", RequestSubmitted, (AGENCY,))
REQUEST_STATUS_CHANGED = EventType("request.status_changed", RequestStatusChanged, (NOTIFY,))
REQUEST_COMMENT = EventType("request.comment", RequestComment, (NOTIFY,))
DOCUMENT_ISSUED = EventType("document.issued", DocumentIssued)
DOCUMENT_AVAILABLE = EventType("document.available", DocumentAvailable)
DOCUMENT_REJECTED = EventType("document.rejected", DocumentRejected, (NOTIFY,))
DOCUMENT_DELETED = EventType("document.deleted", DocumentRef)
ACCOUNT_BLOCKED = EventType("account.blocked", AccountBlocked, (NOTIFY,))
ACCOUNT_UNBLOCKED = EventType("account.unblocked", UnblockCase, (NOTIFY,))
UNBLOCK_QUEUED = EventType("unblock.queued", UnblockCase, (NOTIFY,))
UNBLOCK_REJECTED = EventType("unblock.rejected", UnblockCase, (NOTIFY,))
SECURITY_QUESTIONS_SET = EventType("security.questions_set", Contacts, (NOTIFY,))
TIER_RAISED = EventType("identity.tier_raised", TierRaised, (NOTIFY,))
CHECK_REQUESTED = EventType("identity.check_requested", CheckRequested, (AGENCY,))
CHECK_DELAYED = EventType("identity.check_delayed", CheckOutcome, (NOTIFY,))
CHECK_FAILED = EventType("identity.check_failed", CheckOutcome, (NOTIFY,))
DATA_UPDATED = EventType("identity.data_updated", CheckOutcome, (NOTIFY,))
IDENTITY_TRIED = EventType("identity.number_tried", SnilsTried, (NOTIFY,))
ESIGN_BOUND = EventType("esign.bound", EsignCertificate, (NOTIFY,))
ESIGN_UNBOUND = EventType("esign.unbound", EsignCertificate, (NOTIFY,))
ESIGN_EXPIRING = EventType("esign.expiring", EsignCertificate, (NOTIFY,))
# After-payment work talks to ГИС ГМП and the acquirer: the agency worker, the side facing other systems.
PAYMENT_SUCCEEDED = EventType("payment.succeeded", PaymentEvent, (AGENCY, NOTIFY))
PAYMENT_FAILED = EventType("payment.failed", PaymentEvent, (AGENCY, NOTIFY))
PAYMENT_CANCELLED = EventType("payment.cancelled", PaymentEvent, (AGENCY,))
PAYMENT_REFUND_DUE = EventType("payment.refund_due", PaymentEvent, (AGENCY,))
PAYMENT_REFUNDED = EventType("payment.refunded", PaymentEvent, (NOTIFY,))
PAYMENT_DUE = EventType("payment.due", PaymentDue, (NOTIFY,))
# notifications (issue 14)
CONTACT_UNREACHABLE = EventType("contact.unreachable", ContactUnreachable, (NOTIFY,))
NOTIFICATION_TEST = EventType("notification.test", NotificationTest, (NOTIFY,))
NOTIFICATION_DIGEST = EventType("notification.digest", NotificationDigest, (NOTIFY,))
NOTIFICATION_SETTINGS = EventType("notification.settings_changed", Contacts)  # audit action; no queue
# -- news (NT-4) --
NEWS_PUBLISHED = EventType("news.published", NewsPublished, (AGENCY,))
NEWS_NOTICE = EventType("news.notice", NewsNotice, (NOTIFY,))
# -- calendar (NT-5) --
CALENDAR_REMINDER = EventType("calendar.reminder", CalendarReminder, (NOTIFY,))
# -- push devices (NF-3; docs/push.md) --
DEVICE_ADDED = EventType("device.added", DeviceAdded, (NOTIFY,))
# -- single sign-on (issue 15; docs/sso.md): back-channel logout talks to other state systems --
SESSIONS_ENDED = EventType("sessions.ended", SessionsEnded, (AGENCY,))

ALL: dict[str, EventType] = {e.name: e for e in globals().values() if isinstance(e, EventType)}


def types_for(queue: str) -> list[str]:
    """The event names a queue subscribes to: its SNS filter policy."""
    return sorted(name for name, e in ALL.items() if queue in e.queues)
