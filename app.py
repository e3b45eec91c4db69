"""Kabinet: the Chalice app. Registers blueprints and event handlers; all logic lives in chalicelib."""

from chalice import Chalice

from chalicelib.api import (
    agency,
    applications,
    auth,
    catalog,
    confirmation,
    consents,
    documents,
    esign,
    identity,
    me,
    meta,
    news,
    notifications,
    passkeys,
    payments,
    security,
    unblocking,
)
from chalicelib.api.http import error_shape_middleware
from chalicelib.core.config import settings
from chalicelib.core.observability import worker
from chalicelib.events import agency_worker, document_checker, notify_worker, publisher, scheduled
from chalicelib.identity import checks
from chalicelib.web import (
    applications_pages,
    catalog_pages,
    consents_pages,
    documents_pages,
    home,
    inbox_pages,
    mfc_pages,
    news_pages,
    notifications_pages,
    officer_pages,
    passkey_pages,
    payments_pages,
    profile_pages,
    recovery_pages,
    register,
    security_pages,
    sessions_pages,
    signin,
    static,
    verify_pages,
)

app = Chalice(app_name="kabinet")
app.register_middleware(error_shape_middleware, "http")
app.api.binary_types.append("application/pdf")  # POST /verify takes a PDF as it is
app.api.binary_types.append("multipart/form-data")  # /check/file: a PDF in a plain form, byte for byte
app.api.binary_types.append("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")  # PY-5 XLSX export
app.register_blueprint(agency.bp)
app.register_blueprint(auth.bp)
app.register_blueprint(catalog.bp)
app.register_blueprint(confirmation.bp)
app.register_blueprint(documents.bp)
app.register_blueprint(esign.bp)
app.register_blueprint(identity.bp)
app.register_blueprint(me.bp)
app.register_blueprint(meta.bp)
app.register_blueprint(applications.bp)
app.register_blueprint(security.bp)
app.register_blueprint(passkeys.bp)  # AU-4 passkeys (docs/web-passkeys.md)
app.register_blueprint(consents.bp)
app.register_blueprint(unblocking.bp)
app.register_blueprint(payments.bp)  # PY-1..PY-6 (docs/payments.md)
app.register_blueprint(notifications.bp)  # NT-1, NT-3 (docs/notifications.md)
app.register_blueprint(home.bp)  # the web client's pages (docs/web.md)
app.register_blueprint(register.bp)
app.register_blueprint(signin.bp)
app.register_blueprint(recovery_pages.bp)
app.register_blueprint(security_pages.bp)
app.register_blueprint(sessions_pages.bp)
app.register_blueprint(consents_pages.bp)
app.register_blueprint(mfc_pages.bp)
app.register_blueprint(profile_pages.bp)
app.register_blueprint(officer_pages.bp)
app.register_blueprint(passkey_pages.bp)  # /security/passkeys, /login/passkey (docs/web-passkeys.md)
app.register_blueprint(static.bp)
app.register_blueprint(documents_pages.bp)
app.register_blueprint(verify_pages.bp)
app.register_blueprint(inbox_pages.bp)
app.register_blueprint(catalog_pages.bp)
app.register_blueprint(applications_pages.bp)
app.register_blueprint(payments_pages.bp)  # /pay… (docs/web-payments.md)
# news (NT-4; docs/news.md): the API and the pages
app.register_blueprint(news.bp)
app.register_blueprint(news_pages.bp)
app.register_blueprint(notifications_pages.bp)  # /notifications/settings, /unsubscribe
# -- calendar (NT-5; docs/calendar.md): /me/calendar… (API), the public feed, /calendar… (pages) --
from chalicelib.api import calendar as calendar_api  # noqa: E402
from chalicelib.web import calendar_pages  # noqa: E402

app.register_blueprint(calendar_api.bp)
app.register_blueprint(calendar_pages.bp)
# -- push devices (NF-3; docs/push.md) --
from chalicelib.api import devices as devices_api  # noqa: E402 - its own block, for merging
from chalicelib.web import devices_pages  # noqa: E402

app.register_blueprint(devices_api.bp)  # POST/GET/DELETE /me/devices
app.register_blueprint(devices_pages.bp)  # /security/devices
# -- single sign-on (issue 15; docs/sso.md): discovery, authorize, token, userinfo --
from chalicelib.api import sso as sso_api  # noqa: E402 - its own block, for merging
from chalicelib.web import sso_pages  # noqa: E402

app.register_blueprint(sso_api.bp)  # discovery, token, userinfo
app.register_blueprint(sso_pages.bp)  # /login/authorize, /login/step-up, /security/systems, /logout/end-session
if settings().is_local:
    from chalicelib.api import dev, dev_acquirer, dev_confirm
    from infra import bank_simulator, demo_officer  # local-cloud side: never part of a deployment

    app.register_blueprint(dev.bp)
    app.register_blueprint(dev_confirm.bp)
    demo_officer.register(app)
    bank_simulator.register()  # the partner banks of the local cloud (ID-7)
    dev_acquirer.register(app)  # the local card acquirer: pages and backend (docs/acquirer.md)


@app.on_dynamodb_record(stream_arn=settings().stream_arn, name="outbox_publisher", batch_size=100,
                        starting_position="TRIM_HORIZON")
@worker("outbox_publisher")
def outbox_publisher(event):
    return publisher.handle_stream(event.to_dict()["Records"])


@app.on_sqs_message(queue=settings().name("notify"), name="notify_worker", batch_size=10)
@worker("notify_worker")
def notify_queue(event):
    return notify_worker.handle_batch(event.to_dict()["Records"])


# Not `on_s3_event`: `chalice package` cannot package it (aws/chalice#855). The bucket's notification is in the
# template (infra/resources.py: S3_TRIGGERS), and the local pump wires the same trigger.
@app.lambda_function(name="document_checker")
@worker("document_checker")
def document_uploaded(event, context):
    return document_checker.handle(event["Records"])


@app.on_sqs_message(queue=settings().name("agency"), name="agency_worker", batch_size=10)
@worker("agency_worker")
def agency_queue(event):
    return agency_worker.handle_batch(event.to_dict()["Records"])


@app.schedule("rate(5 minutes)", name="outbox_sweeper")
@worker("outbox_sweeper")
def outbox_sweeper(event):
    from chalicelib.notify import deliveries
    from chalicelib.payments import outcomes

    return {"published": publisher.sweep(), "registry_checks_resumed": checks.retry_due(), **outcomes.sweep(),
            "notifications_sent": deliveries.send_due()}


@app.schedule("rate(1 day)", name="password_expiry_reminder")
@worker("password_expiry_reminder")
def password_expiry_reminder(event):  # the daily run: passwords (AU-3) and e-signature certificates (DC-5)
    return scheduled.daily_reminders()


# -- delivery feedback (issue 14; docs/delivery-feedback.md) --
# One plain function for both of its sources: the `feedback` queue (SES events via SNS; ReportBatchItemFailures)
# and CloudWatch Logs subscriptions on SNS's SMS delivery-status log groups. infra/functions.py wires both
# (resources.FEEDBACK); `on_sqs_message` could not also take the logs' invocations.
@app.lambda_function(name="delivery_feedback")
@worker("delivery_feedback")
def delivery_feedback(event, context):
    from chalicelib.events import feedback

    return feedback.handle(event)
