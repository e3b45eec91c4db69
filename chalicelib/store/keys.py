"""Key builders: the one place that knows how items are addressed (docs/access-patterns.md)."""

from __future__ import annotations

Key = tuple[str, str]


def user(user_id: str) -> Key:
    return f"USER#{user_id}", "PROFILE"


def login_alias(kind: str, value: str) -> Key:
    """Uniqueness guard for a login (phone, email, snils): one account per contact (ID-5)."""
    return f"LOGIN#{kind}#{value}", "LOGIN"


def login_ghost(kind: str, value: str) -> Key:
    """Failure counter for a login with no account, so lockouts look the same for everyone."""
    return f"GHOST#{kind}#{value}", "LOCK"


PROFILE_PREFIX = "PROFILE"  # the account item and its pending check: one Query reads both (identity page)


def identity_check(user_id: str) -> Key:
    """Personal data submitted for the registry checks (ID-6) and each registry's answer; beside the account
    item, so `Query begins_with PROFILE` reads the checked data and the pending one at once."""
    return f"USER#{user_id}", "PROFILE#CHECK"


# GSI1 partition of checks waiting to ask an unavailable registry again (gsi1sk = `<retry_at>#<user id>`).
IDENTITY_RETRY = "IDRETRY"


def identity_retry_sort(at: str, user_id: str) -> str:
    return f"{at}#{user_id}"


CONSENT_PREFIX = "CONSENT#"


def consent(user_id: str, consent_id: str) -> Key:
    """A consent to personal-data processing (ID-9), listed by the owner's partition."""
    return f"USER#{user_id}", f"{CONSENT_PREFIX}{consent_id}"


def unblock_case(case_id: str) -> Key:
    """An unblock case (AU-12): the owner's evidence, the automatic checks and the one decision."""
    return f"UNBLOCK#{case_id}", "CASE"


def unblock_case_pk(case_id: str) -> str:
    return f"UNBLOCK#{case_id}"


# GSI2 partition of the operators' unblock queue: only queued, undecided cases carry gsi2pk (sparse).
UNBLOCK_QUEUE = "UNBLOCKQ"


def unblock_queue_sort(at: str, case_id: str) -> str:
    """Oldest first: the case waiting longest is the first an operator sees."""
    return f"{at}#{case_id}"


def bank_flow(state_hash: str) -> Key:
    """A started partner-bank confirmation (ID-7): keyed by the SHA-256 of its OAuth `state`, 10 minutes."""
    return f"BANKFLOW#{state_hash}", "FLOW"


def bank_sim_code(code_hash: str) -> Key:
    """Local bank simulator only: an authorization code it issued (the bank's own store, simulated here)."""
    return f"BANKSIM#{code_hash}", "CODE"


DEV_LETTERS = "DEVLETTER"


def dev_letter(letter_id: str) -> Key:
    """Local stage only: a registered letter "posted" as a PDF, read by /dev/letters."""
    return DEV_LETTERS, f"LETTER#{letter_id}"


DEV_LETTER_PREFIX = "LETTER#"


def registration(registration_id: str) -> Key:
    return f"REG#{registration_id}", "REG"


def session(user_id: str, session_id: str) -> Key:
    return f"USER#{user_id}", f"SESSION#{session_id}"


def login_event(user_id: str, event_id: str) -> Key:
    return f"USER#{user_id}", f"LOGIN#{event_id}"


def audit(subject: str, entry_id: str) -> Key:
    return subject, f"AUDIT#{entry_id}"


def outbox(event_id: str) -> Key:
    return f"OUTBOX#{event_id}", "OUTBOX"


def processed(event_id: str, consumer: str) -> Key:
    return f"EVENT#{event_id}", f"DONE#{consumer}"


def dev_message(to: str, message_id: str) -> Key:
    return f"DEVMSG#{to}", f"MSG#{message_id}"


def rate(ip: str, window: int) -> Key:
    return f"RATE#{ip}", f"W#{window}"


def code(owner: str, purpose: str) -> Key:
    """A one-time code for `purpose`, kept under its owner (USER#…, MFA#…, RECOVERY#…)."""
    return owner, f"CODE#{purpose}"


def recovery(recovery_id: str) -> Key:
    return f"RECOVERY#{recovery_id}", "RECOVERY"


def mfa_challenge(challenge_id: str) -> Key:
    return f"MFA#{challenge_id}", "MFA"


def mfa_budget(user_id: str, window: int) -> Key:
    """Wrong second-factor codes of one account in one window, across every challenge and recovery."""
    return f"USER#{user_id}", f"MFAFAIL#{window}"


def document(user_id: str, document_id: str) -> Key:
    """A document's metadata; its partition carries the owner, so nobody else's id ever resolves."""
    return f"DOC#{user_id}#{document_id}", "META"


def document_access(user_id: str, document_id: str, entry_id: str) -> Key:
    """One line of a document's access journal (DC-3), in the document's partition."""
    return f"DOC#{user_id}#{document_id}", f"J#{entry_id}"


def upload_object(user_id: str, document_id: str) -> str:
    """The S3 key of a person's upload: replacements are new S3 versions of it; the checker watches `u/`."""
    return f"u/{user_id}/{document_id}"


def issued_object(user_id: str, document_id: str) -> str:
    """The S3 key of a PDF the system issued: outside `u/`, so the upload checker never sees it."""
    return f"g/{user_id}/{document_id}.pdf"


def documents_of(user_id: str) -> str:
    """GSI1 partition listing a person's documents, newest first (gsi1sk = document id)."""
    return f"DOCS#{user_id}"


def verification(document_id: str) -> Key:
    """Public facts about a PDF the system issued and signed (DC-4): no personal data."""
    return f"VERIFY#{document_id}", "VERIFY"


SERVICE_STATS = "SVCSTATS"


def service_stats(service_id: str) -> Key:
    """Submission count of one service (popularity); the whole partition is read in one Query."""
    return SERVICE_STATS, service_id


def request(request_id: str) -> Key:
    """An application; its journal shares the partition, so the detail view is one Query."""
    return f"REQ#{request_id}", "META"


def request_entry(request_id: str, entry_id: str) -> Key:
    return f"REQ#{request_id}", f"J#{entry_id}"


def requests_of(user_id: str) -> str:
    """GSI1 partition of a person's applications, newest first (gsi1sk = request id)."""
    return f"REQS#{user_id}"


def agency_inbox(agency: str) -> str:
    """GSI2 partition of an agency's inbox (gsi2sk = `<status>#<request id>`), filled by the agency router."""
    return f"AGENCY#{agency}"


def request_number(number: str) -> Key:
    """Uniqueness guard of a human-readable application number."""
    return f"REQNO#{number}", "REQNO"


def template(user_id: str, template_id: str) -> Key:
    return f"USER#{user_id}", f"TEMPLATE#{template_id}"


def message(user_id: str, message_id: str) -> Key:
    """An in-app message (NT-1); `inbox()` sorts after every one of them."""
    return f"USER#{user_id}", f"MSG#{message_id}"


def inbox(user_id: str) -> Key:
    """The unread counter: `~` sorts after every `MSG#<id>`, so a newest-first Query returns it first."""
    return f"USER#{user_id}", "MSG#~"


# Partitions and sort-key prefixes that domain code queries or names as an audit/event subject.
SESSIONS = "SESSION#"
TEMPLATES = "TEMPLATE#"
MESSAGES = "MSG#"
OUTBOX_PREFIX = "OUTBOX#"
OUTBOX_INDEX = "OUTBOX"


def user_pk(user_id: str) -> str:
    """A person's partition: profile, sessions, history, codes, audit, inbox, templates."""
    return f"USER#{user_id}"


def registration_pk(registration_id: str) -> str:
    return f"REG#{registration_id}"


def recovery_pk(recovery_id: str) -> str:
    return f"RECOVERY#{recovery_id}"


def mfa_pk(challenge_id: str) -> str:
    """The partition of one sign-in challenge (its SMS code and its wrong-code counter)."""
    return f"MFA#{challenge_id}"


def request_pk(request_id: str) -> str:
    return f"REQ#{request_id}"


def login_event_sk(event_id: str) -> str:
    return f"LOGIN#{event_id}"


def password_reminders(day: str) -> str:
    """GSI1 partition of the accounts whose expiry reminder is due on `day` (YYYY-MM-DD)."""
    return f"PWREMIND#{day}"


def inbox_prefix(status: str) -> str:
    """GSI2 sort-key prefix of an agency inbox's applications in one status."""
    return f"{status}#"


def inbox_sort(status: str, request_id: str) -> str:
    return f"{status}#{request_id}"


def outbox_sort(at: str, event_id: str) -> str:
    """GSI1 sort key of an unpublished event: oldest first for the sweeper."""
    return f"{at}#{event_id}"


def dev_outbox(to: str) -> str:
    """Local stage only: messages sent to one phone or e-mail, read by /dev/outbox."""
    return f"DEVMSG#{to}"


# -- payments (PY-1..PY-6; docs/payments.md) -------------------------------------------------------------------
PAYMENTS_PREFIX = "PAY#"  # a person's payments, newest first: the history is one Query
CARDS_PREFIX = "CARD#"
DEBT_MARKS_PREFIX = "PROFILE#DEBT#"  # beside the account item: the debts list reads both with one Query
PAYMENTS_OPEN = "PAYOPEN"  # GSI1 partition of unfinished payments, by deadline (gsi1sk = payment_open_sort)


def payment(user_id: str, payment_id: str) -> Key:
    return f"USER#{user_id}", f"PAY#{payment_id}"


def payment_order(user_id: str, payment_id: str) -> str:
    """Our order id at the acquirer: it addresses the payment item, so a webhook is one transaction, no read."""
    return f"{user_id}.{payment_id}"


def payment_from_order(order_id: str) -> tuple[str, str] | None:
    user_id, _, payment_id = order_id.partition(".")
    return (user_id, payment_id) if user_id and payment_id else None


def payment_open_sort(deadline: str, user_id: str, payment_id: str) -> str:
    return f"{deadline}#{payment_order(user_id, payment_id)}"


def idempotency(user_id: str, key_hash: str) -> Key:
    """An Idempotency-Key of one person (SHA-256 of the key: any 255 characters fit a sort key)."""
    return f"USER#{user_id}", f"IDEM#{key_hash}"


def uin_lock(uin: str) -> Key:
    """Who is paying, or has paid, a charge: the one item that makes a debt payable once, whoever pays it."""
    return f"UIN#{uin}", "LOCK"


def debt_mark(user_id: str, uin: str) -> Key:
    """What Kabinet knows of one of the person's debts that ГИС ГМП may not show yet: being paid, paid, disputed."""
    return f"USER#{user_id}", f"{DEBT_MARKS_PREFIX}{uin}"


def acquirer_event(event_id: str) -> Key:
    """A webhook event already applied: the same event id again is a replay."""
    return f"ACQEVENT#{event_id}", "EVENT"


def refund(user_id: str, payment_id: str, acquirer_ref: str) -> Key:
    """One refund per charge: a second success webhook cannot refund the same money twice."""
    return f"USER#{user_id}", f"REFUND#{payment_id}#{acquirer_ref}"


def card(user_id: str, card_id: str) -> Key:
    return f"USER#{user_id}", f"{CARDS_PREFIX}{card_id}"


DEBT_WATCH_SHARDS = 8


def debt_watch_pk(shard: int) -> str:
    """The people whose debts the daily reminder run asks ГИС ГМП about, spread over DEBT_WATCH_SHARDS."""
    return f"DEBTWATCH#{shard}"


def debt_watch(shard: int, user_id: str) -> Key:
    return debt_watch_pk(shard), user_id


def payment_reminder(user_id: str, uin: str, due_date: str, ahead: str) -> Key:
    """A due-date reminder sent (PY-6): one per debt, due date and lead time."""
    return f"USER#{user_id}", f"PAYREMIND#{uin}#{due_date}#{ahead}"


# -- qualified e-signature (AU-5, DC-5; docs/esign.md) ---------------------------------------------------------

ESIGN_CERTS = "ESIGN#CERT#"  # sort-key prefix of a person's bound certificates


def esign_cert(user_id: str, certificate_id: str) -> Key:
    """A certificate bound to the account, in the person's partition (listed by `ESIGN_CERTS`)."""
    return f"USER#{user_id}", f"{ESIGN_CERTS}{certificate_id}"


def esign_pending(user_id: str) -> Key:
    """The uploaded certificate waiting for its binding code (one at a time, replaced by a new upload)."""
    return f"USER#{user_id}", "ESIGN#PENDING"


def esign_alias(cert_sha256: str) -> Key:
    """Which account a certificate is bound to, by the SHA-256 of its DER: one account per certificate, and the
    passwordless sign-in finds the account with one GetItem."""
    return f"ESIGNCERT#{cert_sha256}", "CERT"


def esign_reminded(cert_sha256: str) -> Key:
    """Marks that a certificate's expiry reminder went out: once per certificate, even if it is bound again."""
    return f"ESIGNCERT#{cert_sha256}", "REMINDED"


def esign_challenge(challenge_sha256: str) -> Key:
    """A sign-in challenge, keyed by the SHA-256 of its text (the text itself is not stored); single use."""
    return f"ESIGNCH#{challenge_sha256}", "CHALLENGE"


def esign_reminders(day: str) -> str:
    """GSI1 partition of the bound certificates whose expiry reminder is due on `day` (YYYY-MM-DD, UTC)."""
    return f"ESIGNREMIND#{day}"


def esign_reminder_sort(user_id: str, certificate_id: str) -> str:
    return f"{user_id}#{certificate_id}"


PASSKEY_PREFIX = "PASSKEY#"


def passkey(user_id: str, passkey_id: str) -> Key:
    """A WebAuthn credential of the account (AU-4): public key, sign count, name. `passkey_id` is a hash of the
    credential id (those run to 1023 bytes; a sort key holds 1024)."""
    return f"USER#{user_id}", f"{PASSKEY_PREFIX}{passkey_id}"


def passkey_alias(passkey_id: str) -> Key:
    """Credential → account, for the passwordless sign-in, where the assertion is the only thing known."""
    return f"PASSKEY#{passkey_id}", "PASSKEY"


def passkey_challenge(challenge_id: str, user_id: str | None = None) -> Key:
    """A WebAuthn challenge, single-use, with a TTL: under the account when it is known (enrolment, second
    factor), on its own for the passwordless sign-in."""
    if user_id:
        return f"USER#{user_id}", f"PASSKEYCH#{challenge_id}"
    return f"PASSKEYCH#{challenge_id}", "CHALLENGE"


# -- ГИС ГМП simulator (local only) --
def gisgmp_paid(uin: str) -> Key:
    """The simulator's running total of the payments reported for a charge: one item per УИН, so a search reads
    the paid state of all its charges in one BatchGetItem."""
    return f"GISGMP#{uin}", "PAID"


def gisgmp_payment(uin: str, payment_id: str) -> Key:
    """One payment reported for a charge: written once per payment id, in the transaction that adds to the total."""
    return f"GISGMP#{uin}", f"PAYMENT#{payment_id}"


def gisgmp_attempt(uin: str, payment_id: str) -> Key:
    """The simulator saw a first report of this payment (the pattern whose first reports go unanswered)."""
    return f"GISGMP#{uin}", f"ATTEMPT#{payment_id}"

# -- acquirer simulator (local only) --

ACQSIM_DUE = "ACQSIMDUE"  # GSI1 partition of the simulator's webhook deliveries still to send, by due time


def acquirer_sim_session(ref: str) -> Key:
    """Local acquirer simulator only: a payment or card-binding session (the acquirer's own store, simulated)."""
    return f"ACQSIM#{ref}", "SESSION"


def acquirer_sim_order(order_id: str) -> Key:
    """The session a merchant order id started: the acquirer de-duplicates starts by it."""
    return f"ACQSIMORDER#{order_id}", "ORDER"


def acquirer_sim_refund(ref: str, key_hash: str) -> Key:
    """A refund of a session, keyed by the SHA-256 of the merchant's idempotency key."""
    return f"ACQSIM#{ref}", f"REFUND#{key_hash}"


def acquirer_sim_card(token: str) -> Key:
    """A card the simulator saved for a person (by token): its mask, expiry, brand and test outcome."""
    return f"ACQSIMCARD#{token}", "CARD"


def acquirer_sim_delivery(ref: str, event_id: str) -> Key:
    """A webhook the simulator sends about a session: the signed body, attempts, the answers."""
    return f"ACQSIM#{ref}", f"DELIVERY#{event_id}"


def acquirer_sim_due_sort(due: str, event_id: str) -> str:
    """GSI1 sort key under `ACQSIM_DUE`: oldest due first (event ids are time-ordered ULIDs)."""
    return f"{due}#{event_id}"


# -- notifications (issue 14): deliveries, retries, carrier limits, digests --------------------------------------
DELIVERIES_PREFIX = "DLV#"  # a person's deliveries by event id: the inbox page reads its range with one Query
NOTIFY_DUE_SHARDS = 4


def contact_hash(channel: str, to: str) -> str:
    """A contact in a key: SHA-256, so keys and logs carry no phone or address."""
    import hashlib

    return hashlib.sha256(f"{channel}:{to.lower()}".encode()).hexdigest()[:24]


def delivery(user_id: str | None, event_id: str, channel: str, to: str) -> Key:
    """One message of one event on one channel to one address: its status, attempts and (until final) text.
    A person's go under the person; a contact's with no account yet (registration codes) under the event."""
    suffix = f"{channel}#{contact_hash(channel, to)}"
    if user_id:
        return f"USER#{user_id}", f"{DELIVERIES_PREFIX}{event_id}#{suffix}"
    return f"EVENT#{event_id}", f"{DELIVERIES_PREFIX}{suffix}"


def notify_due_pk(shard: int) -> str:
    """GSI1 partitions of deliveries waiting for a time (quiet hours, a retry, the carrier's hour)."""
    return f"NOTIFYDUE#{shard}"


def notify_due_sort(at: str, event_id: str) -> str:
    return f"{at}#{event_id}"


def provider_message(provider_id: str) -> str:
    """GSI2 partition that finds a delivery by the provider's message id (feedback names only that)."""
    return f"PROVIDER#{provider_id}"


def sms_rate(phone: str, hour: str) -> Key:
    """Texts to one number in one hour (the carriers' limits: 100 in total, 20 identical)."""
    return f"SMSRATE#{contact_hash('sms', phone)}", hour


def digest_entry(user_id: str, period: str, event_id: str) -> Key:
    return f"USER#{user_id}", f"DIGEST#{period}#{event_id}"


def digest_prefix(period: str) -> str:
    return f"DIGEST#{period}#"


def digest_pending(user_id: str, period: str) -> Key:
    """A person has held notices in `period`; listed in GSI1 `digest_queue(period)` until the digest is sent."""
    return f"USER#{user_id}", f"DIGESTP#{period}"


def digest_queue(period: str) -> str:
    return f"DIGESTQ#{period}"


def digest_sent(user_id: str, period: str) -> Key:
    return f"USER#{user_id}", f"DIGESTSENT#{period}"


def notify_tests(user_id: str, hour: str) -> Key:
    """Test notifications a person asked for in one hour (at most five)."""
    return f"USER#{user_id}", f"NOTIFYTEST#{hour}"


# -- delivery feedback simulator (local only; issue 14, infra/delivery_simulator.py) --

DELIVSIM_DUE = "DELIVSIMDUE"  # GSI1 partition of the simulator's feedback still to emit, by due time


def delivery_sim_feedback(provider_id: str, seq: int) -> Key:
    """One piece of feedback the simulated provider will emit about a message (its SES event or SMS status line)."""
    return f"DELIVSIM#{provider_id}", f"FEEDBACK#{seq:02d}"


def delivery_sim_feedback_pk(provider_id: str) -> str:
    return f"DELIVSIM#{provider_id}"


def delivery_sim_due_sort(due_ms: int, provider_id: str, seq: int) -> str:
    """GSI1 sort key under `DELIVSIM_DUE`: oldest due first (milliseconds since the epoch, zero-padded)."""
    return f"{due_ms:015d}#{provider_id}#{seq:02d}"


def delivery_sim_seen(channel: str, address: str) -> Key:
    """The simulated provider has had a message for this address before (the "first send fails" patterns)."""
    return f"DELIVSIMSEEN#{channel}#{address}", "SEEN"


# -- news (NT-4; docs/news.md) ---------------------------------------------------------------------------------
NEWS_SUBS_PREFIX = "NEWSSUB#"  # a person's subscriptions, one item per topic: the settings page is one Query
NEWS_SUB_SHARDS = 8
NEWS_ARCHIVE = "NEWS"  # GSI1 partition of every publication, newest first (gsi1sk = publication id)
NEWS_TOPIC_PREFIX = "TOPIC#"


def news_subscription(user_id: str, topic: str) -> Key:
    """A subscription to a topic, in the person's partition; it carries the subscriber index's GSI1 key."""
    return f"USER#{user_id}", f"{NEWS_SUBS_PREFIX}{topic}"


def news_subscribers(topic: str, shard: int) -> str:
    """GSI1 partition of one shard of a topic's subscribers (gsi1sk = user id): the fan-out reads these, never
    the table, and no single partition holds a whole country's subscribers of a topic."""
    return f"NEWSSUBS#{topic}#{shard}"


def news_publication(publication_id: str) -> Key:
    """A publication (title, text, topics); its per-topic archive entries share the partition."""
    return f"NEWS#{publication_id}", "PUB"


def news_topic_entry(publication_id: str, topic: str) -> Key:
    """A publication listed under one topic (GSI1 `news_topic_archive`): the filtered archive is one Query."""
    return f"NEWS#{publication_id}", f"{NEWS_TOPIC_PREFIX}{topic}"


def news_topic_archive(topic: str) -> str:
    """GSI1 partition of one topic's publications, newest first (gsi1sk = publication id)."""
    return f"NEWS#T#{topic}"


def news_delivery(publication_id: str, user_id: str) -> Key:
    """A publication's notice was queued for a person: written with the notice's event, so a retried fan-out
    sends it once per (publication, person). In the person's partition: a fan-out to millions spreads its writes
    instead of loading one partition."""
    return f"USER#{user_id}", f"NEWSTO#{publication_id}"


# -- calendar (NT-5; docs/calendar.md) --------------------------------------------------------------------------
CALENDAR_PREFIX = "CAL#"  # a person's dated things, by day: the calendar is one Query of this prefix
CALENDAR_SETTINGS_SK = "CAL#~SETTINGS"  # `~` sorts after every day, so a period Query up to the end reads it too
CALENDAR_END = "CAL#~~"  # the upper bound of a period Query that still reads the settings item
CALENDAR_SHARDS = 8


def calendar_item(user_id: str, day: str, category: str, source_id: str) -> Key:
    """One dated thing (a deadline, a due date, an expiry) that its producer keeps in step with its source."""
    return f"USER#{user_id}", f"{CALENDAR_PREFIX}{day}#{category}#{source_id}"


def calendar_day(day: str) -> str:
    """The sort-key bound of a period's first day."""
    return f"{CALENDAR_PREFIX}{day}"


def calendar_settings(user_id: str) -> Key:
    """Reminder settings per category and the current subscription's token hash."""
    return f"USER#{user_id}", CALENDAR_SETTINGS_SK


def calendar_reminded(user_id: str, item_id: str, day: str) -> Key:
    """A calendar reminder sent: once per item and day, however often the schedule runs."""
    return f"USER#{user_id}", f"CALSENT#{item_id}#{day}"


def calendar_subscription(token_hash: str) -> Key:
    """A private subscription URL's token (SHA-256 of it) → whose calendar it serves."""
    return f"CALSUB#{token_hash}", "SUB"


def calendar_unindexed(shard: int) -> str:
    """GSI1 partition of calendar items written or changed since the daily run last placed their reminder."""
    return f"CALNEW#{shard}"


def calendar_reminders(day: str, shard: int) -> str:
    """GSI1 partition of the calendar items whose reminder is due on `day` (YYYY-MM-DD, Moscow)."""
    return f"CALREMIND#{day}#{shard}"


def calendar_index_sort(user_id: str, item_sk: str) -> str:
    """GSI1 sort key of a calendar item in the reminder index: whose item, and which."""
    return f"{user_id}|{item_sk}"


# -- push devices (NF-3; docs/push.md) --------------------------------------------------------------------------
DEVICES_PREFIX = "DEVICE#"  # a person's devices: the list and the worker's endpoints are one Query


def device(user_id: str, device_id: str) -> Key:
    """A mobile device registered for push: platform, name, its SNS endpoint; in the person's partition."""
    return f"USER#{user_id}", f"{DEVICES_PREFIX}{device_id}"


def device_token(token_hash: str) -> Key:
    """Which account a push token belongs to, by the SHA-256 of platform and token: one token, one account, and
    registering it again finds its device with one GetItem."""
    return f"PUSHTOKEN#{token_hash}", "TOKEN"


# -- single sign-on (issue 15; docs/sso.md) ---------------------------------------------------------------------
def sso_client(client_id: str) -> Key:
    """A relying party registered by an admin: redirect URIs, scopes, token endpoint auth method, sector."""
    return f"SSOCLIENT#{client_id}", "CLIENT"


def sso_code(code_hash: str) -> Key:
    """An authorization code by the SHA-256 of its value: single use (used_at), 60 s, bound to client,
    redirect URI and PKCE challenge; kept after use until its TTL so a replay is recognised."""
    return f"SSOCODE#{code_hash}", "CODE"


def sso_token(token_hash: str) -> Key:
    """An access token issued to a relying party, by the SHA-256 of its value: whom, which client, scope."""
    return f"SSOTOKEN#{token_hash}", "TOKEN"


def sso_assertion(client_id: str, jti: str) -> Key:
    """A private_key_jwt client assertion seen: its `jti` is single use until the assertion expires."""
    return f"SSOJTI#{client_id}#{jti}", "JTI"


def sso_grant(user_id: str, client_id: str) -> Key:
    """A person's standing grant to a relying party: the consented scopes, the consent's id (ID-9), first and last
    sign-in; read with the account and session in the authorization endpoint's one BatchGetItem."""
    return f"USER#{user_id}", f"{SSO_GRANT_PREFIX}{client_id}"


SSO_GRANT_PREFIX = "SSOGRANT#"


def sso_refresh(token_hash: str) -> Key:
    """A refresh token (offline_access) by its SHA-256: single use, rotated; its `family` (the first code)
    is revoked whole when a rotated one is presented again."""
    return f"SSOREFRESH#{token_hash}", "REFRESH"
