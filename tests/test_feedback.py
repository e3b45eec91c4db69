"""The providers' delivery feedback (issue 14 "Delivery"): parsing every shape AWS documents, the local simulator's
outcome per address pattern (docs/delivery-feedback.md), the pump delivering SES feedback through SNS → SQS → the
function and SMS feedback as a CloudWatch Logs subscription event, failures redelivered, and the function's wiring.

Fixtures are written from AWS's documentation (SES: "Examples of event data that Amazon SES publishes to Amazon
SNS"; SNS: the SMS delivery-status log examples; CloudWatch Logs: the subscription filter payload). The one seam
with the notifications' side is `chalicelib.notify.deliveries.record_feedback`: these tests put a recording fake in
its place only to see what the parser hands over.
"""

from __future__ import annotations

import base64
import copy
import gzip
import json
import sys
import time
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app import app
from chalicelib.events import feedback
from chalicelib.events.feedback import Feedback, MalformedFeedback, parse_ses, parse_sms_logs

MESSAGE_ID = "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000"

# -- fixtures from AWS's documentation --------------------------------------------------------------------------

MAIL = {"timestamp": "2017-08-05T00:40:02.012Z", "source": "Sender Name <sender@example.com>",
        "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/sender@example.com",
        "sendingAccountId": "123456789012", "messageId": MESSAGE_ID, "destination": ["recipient@example.com"],
        "headersTruncated": False,
        "headers": [{"name": "From", "value": "Sender Name <sender@example.com>"},
                    {"name": "To", "value": "recipient@example.com"},
                    {"name": "Subject", "value": "Message sent from Amazon SES"}],
        "commonHeaders": {"from": ["Sender Name <sender@example.com>"], "to": ["recipient@example.com"],
                          "messageId": MESSAGE_ID, "subject": "Message sent from Amazon SES"},
        "tags": {"ses:configuration-set": ["ConfigSet"], "ses:source-ip": ["192.0.2.0"],
                 "ses:from-domain": ["example.com"], "ses:caller-identity": ["ses_user"]}}

BOUNCE = {"eventType": "Bounce", "bounce": {
    "bounceType": "Permanent", "bounceSubType": "General",
    "bouncedRecipients": [{"emailAddress": "recipient@example.com", "action": "failed", "status": "5.1.1",
                           "diagnosticCode": "smtp; 550 5.1.1 user unknown"}],
    "timestamp": "2017-08-05T00:41:02.669Z",
    "feedbackId": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
    "reportingMTA": "dsn; mta.example.com"}, "mail": MAIL}

COMPLAINT = {"eventType": "Complaint", "complaint": {
    "complainedRecipients": [{"emailAddress": "recipient@example.com"}], "timestamp": "2017-08-05T00:41:02.669Z",
    "feedbackId": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
    "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/60.0",
    "complaintFeedbackType": "abuse", "arrivalDate": "2017-08-05T00:41:02.669Z"},
    "mail": {**MAIL, "timestamp": "2017-08-05T00:40:01.123Z"}}

DELIVERY = {"eventType": "Delivery", "mail": {**MAIL, "timestamp": "2016-10-19T23:20:52.240Z"}, "delivery": {
    "timestamp": "2016-10-19T23:21:04.133Z", "processingTimeMillis": 11893, "recipients": ["recipient@example.com"],
    "smtpResponse": "250 2.6.0 Message received", "reportingMTA": "mta.example.com"}}

SEND = {"eventType": "Send", "mail": {**MAIL, "timestamp": "2016-10-14T05:02:16.645Z"}, "send": {}}

REJECT = {"eventType": "Reject", "mail": {**MAIL, "timestamp": "2016-10-14T17:38:15.211Z"},
          "reject": {"reason": "Bad content"}}

RENDERING_FAILURE = {"eventType": "Rendering Failure", "mail": {
    "timestamp": "2018-01-22T18:43:06.197Z", "source": "sender@example.com",
    "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/sender@example.com", "sendingAccountId": "123456789012",
    "messageId": MESSAGE_ID, "destination": ["recipient@example.com"], "headersTruncated": False,
    "tags": {"ses:configuration-set": ["ConfigSet"]}},
    "failure": {"errorMessage": "Attribute 'attributeName' is not present in the rendering data.",
                "templateName": "MyTemplate"}}

DELIVERY_DELAY = {"eventType": "DeliveryDelay", "mail": {**RENDERING_FAILURE["mail"],
                                                         "timestamp": "2020-06-16T00:15:40.641Z"},
                  "deliveryDelay": {"timestamp": "2020-06-16T00:25:40.095Z",
                                    "delayType": "TransientCommunicationFailure",
                                    "expirationTime": "2020-06-16T00:25:40.914Z",
                                    "delayedRecipients": [{"emailAddress": "recipient@example.com", "status": "4.4.1",
                                                           "diagnosticCode": "smtp; 421 4.4.1 Unable to connect to "
                                                                             "remote host"}]}}

SMS_SUCCESS = {"notification": {"messageId": "34d9b400-c6dd-5444-820d-fbeb0f1f54cf",
                                "timestamp": "2016-06-28 00:40:34.558"},
               "delivery": {"phoneCarrier": "My Phone Carrier", "mnc": 270, "destination": "+1XXX5550100",
                            "priceInUSD": 0.00645, "smsType": "Transactional", "mcc": 310,
                            "providerResponse": "Message has been accepted by phone carrier", "dwellTimeMs": 599,
                            "dwellTimeMsUntilDeviceAck": 1344},
               "status": "SUCCESS"}

SMS_FAILURE = {"notification": {"messageId": "1077257a-92f3-5ca3-bc97-6a915b310625",
                                "timestamp": "2016-06-28 00:40:34.559"},
               "delivery": {"mnc": 0, "destination": "+1XXX5550100", "priceInUSD": 0.00645, "smsType": "Transactional",
                            "mcc": 0, "providerResponse": "Unknown error attempting to reach phone",
                            "dwellTimeMs": 1420, "dwellTimeMsUntilDeviceAck": 1692},
               "status": "FAILURE"}


def sns_envelope(message: str) -> str:
    """What SQS holds for a non-raw SNS subscription: SNS's notification JSON."""
    return json.dumps({
        "Type": "Notification", "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": "arn:aws:sns:eu-central-1:123456789012:kabinet-prod-delivery-feedback", "Message": message,
        "Timestamp": "2017-08-05T00:41:03.000Z", "SignatureVersion": "1", "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSw",
        "SigningCertURL": "https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-0000000000.pem",
        "UnsubscribeURL": "https://sns.eu-central-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:x"})


def awslogs(lines: list[dict[str, Any]], group: str = "sns/eu-central-1/123456789012/DirectPublishToPhoneNumber",
            message_type: str = "DATA_MESSAGE") -> dict[str, Any]:
    """A CloudWatch Logs subscription's invocation of a Lambda function."""
    data = {"messageType": message_type, "owner": "123456789012", "logGroup": group,
            "logStream": "bd8a4d2f-3a16-4b91-b6c4-6b8d1d3c1f2e", "subscriptionFilters": ["kabinet-prod-sms-delivered"],
            "logEvents": [{"id": f"3619578054447590000000000000000000000000000000000{n:04d}",
                           "timestamp": 1467074434558 + n, "message": json.dumps(line)}
                          for n, line in enumerate(lines)]}
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(data).encode())).decode()}}


def sqs_record(body: str, message_id: str = "059f36b4-87a3-44ab-83d2-661975830a7d") -> dict[str, Any]:
    return {"messageId": message_id, "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a", "body": body,
            "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {}, "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:eu-central-1:123456789012:kabinet-prod-feedback",
            "awsRegion": "eu-central-1"}


# -- parsing: SES --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("event", "outcome", "at", "detail_has"), [
    (BOUNCE, "permanent-failure", "2017-08-05T00:41:02Z", "550 5.1.1 user unknown"),
    (COMPLAINT, "permanent-failure", "2017-08-05T00:41:02Z", "complaint"),
    (DELIVERY, "delivered", "2016-10-19T23:21:04Z", "250 2.6.0"),
    (REJECT, "technical-failure", "2016-10-14T17:38:15Z", "Bad content"),
    (RENDERING_FAILURE, "technical-failure", "2018-01-22T18:43:06Z", "not present in the rendering data"),
    (DELIVERY_DELAY, "temporary-failure", "2020-06-16T00:25:40Z", "TransientCommunicationFailure"),
], ids=["bounce", "complaint", "delivery", "reject", "rendering-failure", "delivery-delay"])
def test_each_documented_ses_event_gives_its_outcome(event, outcome, at, detail_has):
    [found] = parse_ses(sns_envelope(json.dumps(event)))
    assert (found.provider_id, found.channel, found.outcome, found.at) == (MESSAGE_ID, "email", outcome, at)
    assert detail_has in found.detail


def test_a_complaint_says_complaint():
    [found] = parse_ses(sns_envelope(json.dumps(COMPLAINT)))
    assert found.detail == "complaint"


@pytest.mark.parametrize(("bounce_type", "sub_type", "outcome"), [
    ("Permanent", "General", "permanent-failure"), ("Permanent", "NoEmail", "permanent-failure"),
    ("Permanent", "OnAccountSuppressionList", "permanent-failure"),
    ("Transient", "MailboxFull", "temporary-failure"), ("Transient", "General", "temporary-failure"),
    ("Undetermined", "Undetermined", "temporary-failure"),
])
def test_bounce_types(bounce_type, sub_type, outcome):
    event = copy.deepcopy(BOUNCE)
    event["bounce"].update(bounceType=bounce_type, bounceSubType=sub_type)
    [found] = parse_ses(sns_envelope(json.dumps(event)))
    assert found.outcome == outcome


def test_events_that_are_not_about_delivery_give_nothing():
    assert parse_ses(sns_envelope(json.dumps(SEND))) == []
    assert parse_ses(sns_envelope(json.dumps({**SEND, "eventType": "Open", "open": {}}))) == []
    # SES checks a new event destination's topic with a plain-text message
    assert parse_ses(sns_envelope("Successfully validated SNS topic for Amazon SES event publishing.")) == []


def test_a_raw_ses_event_is_taken_too():
    [found] = parse_ses(json.dumps(DELIVERY))
    assert found.outcome == "delivered"


@pytest.mark.parametrize("body", [
    "not json", "[]", sns_envelope("[1, 2]"), sns_envelope(json.dumps({"eventType": "Bounce", "mail": {}})),
    sns_envelope(json.dumps({"eventType": "Bounce", "mail": MAIL})),  # no bounce object
    sns_envelope(json.dumps({**DELIVERY, "eventType": "Teleported"})),
    sns_envelope(json.dumps({**DELIVERY, "delivery": {**DELIVERY["delivery"], "timestamp": "yesterday"}})),
])
def test_a_broken_message_is_refused_not_guessed(body):
    with pytest.raises(MalformedFeedback):
        parse_ses(body)


# -- parsing: SNS SMS delivery status ------------------------------------------------------------------------------

def test_the_documented_sms_statuses():
    found = parse_sms_logs(awslogs([SMS_SUCCESS, SMS_FAILURE]))
    assert found == [
        Feedback("34d9b400-c6dd-5444-820d-fbeb0f1f54cf", "sms", "delivered",
                 "Message has been accepted by phone carrier", "2016-06-28T00:40:34Z"),
        Feedback("1077257a-92f3-5ca3-bc97-6a915b310625", "sms", "temporary-failure",
                 "Unknown error attempting to reach phone", "2016-06-28T00:40:34Z")]


@pytest.mark.parametrize(("response", "outcome"), [
    ("Unknown error attempting to reach phone", "temporary-failure"),
    ("Phone is currently unreachable/unavailable", "temporary-failure"),
    ("Invalid phone number", "permanent-failure"),
    ("Phone number is opted out", "permanent-failure"),
    ("Unknown subscriber", "permanent-failure"),
    ("Phone carrier has blocked this message", "technical-failure"),
    ("This delivery would exceed max price", "technical-failure"),
])
def test_provider_responses_map_to_outcomes(response, outcome):
    line = copy.deepcopy(SMS_FAILURE)
    line["delivery"]["providerResponse"] = response
    [found] = parse_sms_logs(awslogs([line], group="sns/eu-central-1/123456789012/DirectPublishToPhoneNumber/Failure"))
    assert (found.outcome, found.detail) == (outcome, response)


def test_cloudwatch_logs_control_message_gives_nothing():
    assert parse_sms_logs(awslogs([], message_type="CONTROL_MESSAGE")) == []


@pytest.mark.parametrize("event", [
    {"awslogs": {"data": "not base64 at all!"}},
    {"awslogs": {"data": base64.b64encode(b"plain, not gzip").decode()}},
    {"awslogs": {}},
    awslogs([{"status": "SUCCESS"}]),
    awslogs([{**SMS_SUCCESS, "status": "PENDING"}]),
])
def test_a_broken_logs_event_is_refused(event):
    with pytest.raises(MalformedFeedback):
        parse_sms_logs(event)


# -- the handler, with a recording `deliveries` ------------------------------------------------------------------

class Recorder:
    """Stands in for chalicelib.notify.deliveries (the notifications' side): records what it is handed and can be
    told to fail for some provider ids, a number of times."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, str, str]] = []
        self.fail: dict[str, int] = {}

    def record_feedback(self, provider_id: str, channel: str, outcome: str, detail: str, at: str) -> bool:
        if self.fail.get(provider_id, 0) > 0:
            self.fail[provider_id] -= 1
            raise RuntimeError("the table is having a moment")
        self.calls.append((provider_id, channel, outcome, detail, at))
        return True

    def outcomes(self, provider_id: str) -> list[str]:
        return [c[2] for c in self.calls if c[0] == provider_id]


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    import chalicelib.notify

    rec = Recorder()
    fake = types.ModuleType("chalicelib.notify.deliveries")
    fake.record_feedback = rec.record_feedback  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "chalicelib.notify.deliveries", fake)
    monkeypatch.setattr(chalicelib.notify, "deliveries", fake, raising=False)
    return rec


def test_the_handler_tells_sqs_records_from_a_logs_subscription(recorder):
    assert feedback.handle({"Records": [sqs_record(sns_envelope(json.dumps(BOUNCE)))]}) == {"batchItemFailures": []}
    assert feedback.handle(awslogs([SMS_SUCCESS])) == {"recorded": 1}
    assert recorder.calls == [
        (MESSAGE_ID, "email", "permanent-failure", "bounce Permanent/General: smtp; 550 5.1.1 user unknown",
         "2017-08-05T00:41:02Z"),
        ("34d9b400-c6dd-5444-820d-fbeb0f1f54cf", "sms", "delivered", "Message has been accepted by phone carrier",
         "2016-06-28T00:40:34Z")]
    with pytest.raises(MalformedFeedback):
        feedback.handle({"detail-type": "Scheduled Event"})


def test_a_failing_record_is_reported_alone(recorder):
    other = copy.deepcopy(DELIVERY)
    other["mail"]["messageId"] = "other-message"
    recorder.fail[MESSAGE_ID] = 1
    result = feedback.handle({"Records": [sqs_record(sns_envelope(json.dumps(DELIVERY)), "m-1"),
                                          sqs_record(sns_envelope(json.dumps(other)), "m-2"),
                                          sqs_record("garbage", "m-3")]})
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-1"}, {"itemIdentifier": "m-3"}]}
    assert recorder.outcomes("other-message") == ["delivered"]


def test_a_failing_sms_status_fails_the_invocation_after_recording_the_others(recorder):
    recorder.fail["1077257a-92f3-5ca3-bc97-6a915b310625"] = 1
    with pytest.raises(RuntimeError):
        feedback.handle(awslogs([SMS_FAILURE, SMS_SUCCESS]))
    assert recorder.outcomes("34d9b400-c6dd-5444-820d-fbeb0f1f54cf") == ["delivered"]


def test_the_app_registers_one_function_for_both(recorder):
    handler = app.handler_map["delivery_feedback"]
    assert handler(awslogs([SMS_SUCCESS]), None) == {"recorded": 1}
    assert handler({"Records": [sqs_record(sns_envelope(json.dumps(DELIVERY)))]}, None) == {"batchItemFailures": []}


# -- the local simulator ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("channel", "to", "first", "later"), [
    ("email", "ivan@bounce.kabinet.test", "bounce", "bounce"),
    ("email", "ivan@soft.kabinet.test", "soft-bounce", "soft-bounce"),
    ("email", "ivan@soft1.kabinet.test", "soft-bounce", "delivered"),
    ("email", "Ivan@Complaint.Kabinet.Test", "complaint", "complaint"),
    ("email", "ivan@reject.kabinet.test", "reject", "reject"),
    ("email", "ivan@example.com", "delivered", "delivered"),
    ("email", "ivan@notbounce.kabinet.test", "delivered", "delivered"),
    ("sms", "+79995550001", "unknown-subscriber", "unknown-subscriber"),
    ("sms", "+79995550002", "unreachable", "unreachable"),
    ("sms", "+79995550003", "technical", "technical"),
    ("sms", "+79995550004", "unreachable", "delivered"),
    ("sms", "+79161234567", "delivered", "delivered"),
])
def test_the_simulator_chooses_by_address(channel, to, first, later):
    from infra import delivery_simulator as sim

    assert sim.choose(channel, to, first=True) == first
    assert sim.choose(channel, to, first=False) == later


def test_delays_are_configurable_and_the_same_for_a_message(monkeypatch):
    from infra import delivery_simulator as sim

    monkeypatch.delenv(sim.DELAY_ENV, raising=False)
    assert all(0.2 <= sim.delay_of(f"m-{n}") <= 1.0 for n in range(50))
    assert sim.delay_of("m-1") == sim.delay_of("m-1")
    monkeypatch.setenv(sim.DELAY_ENV, "0")
    assert sim.delay_of("m-1") == 0


@pytest.fixture
def local(cloud: dict[str, str], recorder: Recorder, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The local cloud with no feedback delay, its pump, and a spy on what reaches the function."""
    from chalicelib.core.config import settings
    from infra import delivery_simulator as sim
    from infra.pump import Pump

    monkeypatch.setenv(sim.DELAY_ENV, "0")
    pump = Pump(app, settings().region, cloud["TableName"])
    seen: list[dict[str, Any]] = []
    real = app.handler_map["delivery_feedback"]

    def spy(event: dict[str, Any], context: Any) -> Any:
        seen.append(event)
        return real(event, context)

    monkeypatch.setitem(app.handler_map, "delivery_feedback", spy)
    pump.seen = seen  # type: ignore[attr-defined]
    yield pump


def _until(pump: Any, done: Callable[[], bool], seconds: float = 6.0) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "the feedback did not arrive"
        pump.drain()
        time.sleep(0.1)


def _sent(channel: str, provider_id: str, to: str) -> str:
    from infra import delivery_simulator as sim

    return sim.sent(channel, provider_id, to, "2026-12-03T14:12:17Z")


EMAIL_CASES = [
    ("ivan@example.com", ["delivered"]),
    ("ivan@bounce.kabinet.test", ["permanent-failure"]),
    ("ivan@soft.kabinet.test", ["temporary-failure"]),
    ("ivan@complaint.kabinet.test", ["delivered", "permanent-failure"]),
    ("ivan@reject.kabinet.test", ["technical-failure"]),
]


def test_the_pump_delivers_ses_feedback_through_the_topic_and_the_queue(local, recorder):
    for n, (to, _) in enumerate(EMAIL_CASES):
        _sent("email", f"0100019a-{n:04d}-ses", to)
    expected = {f"0100019a-{n:04d}-ses": outcomes for n, (_, outcomes) in enumerate(EMAIL_CASES)}
    _until(local, lambda: all(recorder.outcomes(p) == o for p, o in expected.items()))
    complaint = [c for c in recorder.calls if c[0] == "0100019a-0003-ses"]
    assert complaint[1][3] == "complaint"
    assert all(c[4] == c[4][:19] + "Z" and c[1] == "email" for c in recorder.calls)
    # Every one of them came as an SQS record whose body is SNS's envelope from the delivery-feedback topic.
    records = [r for event in local.seen for r in event.get("Records", [])]
    assert not [e for e in local.seen if "awslogs" in e]
    assert len(records) == 6
    for record in records:
        envelope = json.loads(record["body"])
        assert envelope["Type"] == "Notification" and envelope["TopicArn"].endswith(":kabinet-local-delivery-feedback")
        assert json.loads(envelope["Message"])["mail"]["tags"]["ses:configuration-set"] == ["kabinet-local-mail"]


def test_the_first_send_patterns_fail_once_per_address(local, recorder):
    _sent("email", "m-soft1-a", "petr@soft1.kabinet.test")
    _sent("email", "m-soft1-b", "petr@soft1.kabinet.test")
    _sent("sms", "s-0004-a", "+79995550004")
    _sent("sms", "s-0004-b", "+79995550004")
    _until(local, lambda: len(recorder.calls) == 4)
    assert recorder.outcomes("m-soft1-a") == ["temporary-failure"]
    assert recorder.outcomes("m-soft1-b") == ["delivered"]
    assert recorder.outcomes("s-0004-a") == ["temporary-failure"]
    assert recorder.outcomes("s-0004-b") == ["delivered"]


def test_the_pump_delivers_sms_feedback_as_a_logs_subscription_event(local, recorder):
    cases = {"+79995550001": ("permanent-failure", "Unknown subscriber"),
             "+79995550002": ("temporary-failure", "Phone is currently unreachable/unavailable"),
             "+79995550003": ("technical-failure", "This delivery would exceed max price"),
             "+79161234567": ("delivered", "Message has been accepted by phone carrier")}
    for n, phone in enumerate(cases):
        _sent("sms", f"5b2f4a1c-{n:04d}-sns", phone)
    _sent("sms", "5b2f4a1c-again-sns", "+79995550002")  # unreachable every time
    _until(local, lambda: len(recorder.calls) == 5)
    for n, (outcome, detail) in enumerate(cases.values()):
        [call] = [c for c in recorder.calls if c[0] == f"5b2f4a1c-{n:04d}-sns"]
        assert (call[1], call[2], call[3]) == ("sms", outcome, detail)
    assert recorder.outcomes("5b2f4a1c-again-sns") == ["temporary-failure"]
    events = [e for e in local.seen if "awslogs" in e]
    assert len(events) == 5 and not [e for e in local.seen if e.get("Records")]
    data = json.loads(gzip.decompress(base64.b64decode(events[0]["awslogs"]["data"])))
    assert data["messageType"] == "DATA_MESSAGE" and data["logGroup"].startswith("sns/eu-central-1/")
    assert {json.loads(e["message"])["status"] for e in data["logEvents"]} <= {"SUCCESS", "FAILURE"}


def test_a_failing_record_is_redelivered_by_sqs(local, recorder):
    recorder.fail["m-flaky"] = 1
    _sent("email", "m-flaky", "olga@example.com")
    _until(local, lambda: recorder.outcomes("m-flaky") == ["delivered"])
    failed = [e for e in local.seen if e.get("Records")]
    assert len(failed) == 2  # the first delivery reported it, SQS delivered it again
    assert failed[0]["Records"][0]["messageId"] == failed[1]["Records"][0]["messageId"]


def test_a_failing_sms_status_is_retried_like_an_asynchronous_invocation(local, recorder):
    from infra import delivery_simulator as sim

    recorder.fail["s-flaky"] = 1
    _sent("sms", "s-flaky", "+79161234567")
    _until(local, lambda: recorder.outcomes("s-flaky") == ["delivered"])
    [item] = sim.scheduled("s-flaky")
    assert (item["state"], item["attempts"]) == ("emitted", 2)


def test_the_admin_step_names_the_stacks_role_for_sms_delivery_status(cloud):
    from chalicelib.core.aws import client
    from infra import sms_delivery_status

    role = cloud["SmsDeliveryStatusRoleArn"]
    assert role.startswith("arn:aws:iam::") and role.endswith("SmsDeliveryStatusRole")
    assert sms_delivery_status.switch_on(client("sns"), role) == {
        "DeliveryStatusIAMRole": role, "DeliveryStatusSuccessSamplingRate": "100"}


def test_the_simulator_is_for_the_local_stage_only(monkeypatch):
    from chalicelib.core import config
    from infra import delivery_simulator as sim

    monkeypatch.setattr(sim, "settings", lambda: config.Settings(**{**config.settings().__dict__, "stage": "prod"}))
    with pytest.raises(RuntimeError):
        sim.sent("email", "m-1", "ivan@example.com", "2026-12-03T14:12:17Z")


# -- the wiring (fast: the merge template; tests/test_deploy.py checks the packaged and translated one) -------------

def test_the_function_is_wired_to_its_queue_the_topic_and_both_log_groups(tmp_path):
    import subprocess

    from infra.package import ROOT, _environment

    path = tmp_path / "merge.json"  # the prod app's merge template, made as packaging makes it
    subprocess.run([sys.executable, "-m", "infra.package", "prod", "--merge-only", str(path)], cwd=ROOT, check=True,
                   env=_environment("prod", "eu-central-1"))
    merged = json.loads(path.read_text(encoding="utf-8"))["Resources"]
    fn = merged["DeliveryFeedback"]["Properties"]
    [source] = fn["Events"].values()
    assert source["Type"] == "SQS" and source["Properties"]["Queue"] == {"Fn::Sub": "${FeedbackQueue.Arn}"}
    assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert fn["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["DeliveryFeedbackFailures", "Arn"]}
    assert fn["Environment"]["Variables"]["KABINET_SES_CONFIGURATION_SET"] == {"Ref": "MailConfigurationSet"}
    assert merged["MailConfigurationSet"]["Properties"]["Name"] == "kabinet-prod-mail"
    destination = merged["MailEventDestination"]["Properties"]["EventDestination"]
    assert destination["SnsDestination"] == {"TopicARN": {"Ref": "DeliveryFeedbackTopic"}}
    assert {"delivery", "bounce", "complaint", "reject", "deliveryDelay", "renderingFailure"} == set(
        destination["MatchingEventTypes"])
    subscription = merged["FeedbackQueueSubscription"]["Properties"]
    assert subscription["TopicArn"] == {"Ref": "DeliveryFeedbackTopic"} and subscription["RawMessageDelivery"] is False
    groups = {merged[k]["Properties"]["LogGroupName"]["Fn::Sub"] for k in ("SmsDeliveredLogs", "SmsFailedLogs")}
    assert groups == {"sns/${AWS::Region}/${AWS::AccountId}/DirectPublishToPhoneNumber",
                      "sns/${AWS::Region}/${AWS::AccountId}/DirectPublishToPhoneNumber/Failure"}
    for group in ("SmsDeliveredLogs", "SmsFailedLogs"):
        flt = merged[f"{group}Subscription"]["Properties"]
        assert flt["DestinationArn"] == {"Ref": "DeliveryFeedback.Alias"} and flt["LogGroupName"] == {"Ref": group}
        permission = merged[f"DeliveryFeedback{group}Permission"]["Properties"]
        assert permission["Principal"] == "logs.amazonaws.com"
        assert permission["SourceArn"] == {"Fn::GetAtt": [group, "Arn"]}
    role = json.dumps(merged["DeliveryFeedbackRole"]["Properties"])
    assert "FeedbackQueue" in role and "ses:" not in role and "sns:Publish" not in role
