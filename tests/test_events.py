"""Event backbone: outbox in the same transaction, stream → SNS → SQS → notify, idempotency, DLQ, sweeper."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs

from moto import moto_api

from chalicelib.core import aws
from chalicelib.core.config import settings
from chalicelib.events import notify_worker
from chalicelib.store import keys, table

PHONE = "+79161234567"
BODY = {"last_name": "Кузнецов", "first_name": "Алексей", "phone": PHONE}


def _outbox_items():
    return table.query("OUTBOX", index="GSI1", newest_first=False, limit=100).items


def _moto_api(moto_server: str, path: str, method: str = "GET") -> bytes:
    return urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/{path}", method=method)).read()


def _sms_publishes(recording: str) -> list[dict[str, list[str]]]:
    """The SMS Publish requests moto's recorder kept (SNS speaks the query protocol: a form-encoded body)."""
    bodies = []
    for line in recording.splitlines():
        entry = json.loads(line)
        body = base64.b64decode(entry["body"]).decode() if entry["body_encoded"] else entry["body"] or ""
        form = parse_qs(body)
        if form.get("Action") == ["Publish"] and "PhoneNumber" in form:
            bodies.append(form)
    return bodies


def test_outbox_item_is_written_with_the_change_and_removed_after_publishing(api):
    api.post("/auth/registrations", BODY)
    pending = _outbox_items()
    assert [i["type"] for i in pending] == ["code.requested"]
    api.pump.drain()
    assert _outbox_items() == []
    assert len(api.outbox(PHONE)) == 1


def test_sms_really_goes_through_sns(api, moto_server, tmp_path, monkeypatch):
    """The registration code reaches SNS itself, read from moto's own state and not from our outbox: one SMS, to
    the number typed, with the literal text and a code that confirms the registration, sent as a transactional
    SMS (a promotional one may be dropped or held by the carriers). No sender ID is sent: none is registered for
    Russian numbers yet (docs/deploy.md), so the account's default applies."""
    monkeypatch.setattr(moto_api.recorder, "_location", str(tmp_path / "moto-requests.jsonl"))
    _moto_api(moto_server, "recorder/reset-recording", "POST")
    _moto_api(moto_server, "recorder/start-recording", "POST")
    try:
        reg = api.post("/auth/registrations", BODY)
        api.pump.drain()
    finally:
        _moto_api(moto_server, "recorder/stop-recording", "POST")
    sms = json.loads(_moto_api(moto_server, "data.json"))["sns"]["SMS"]
    assert [m["phone_number"] for m in sms] == ["+79161234567"]
    found = re.fullmatch(r"Код подтверждения регистрации на Госуслугах: (\d{6})\. Никому его не сообщайте\. "
                         r"Код действует 5 минут\.", sms[0]["message"])
    assert found, sms[0]["message"]
    confirmed = api.post(f"/auth/registrations/{reg.json['registration_id']}/confirm", {"code": found.group(1)})
    assert confirmed.status_code == 200, confirmed.json
    [publish] = _sms_publishes(_moto_api(moto_server, "recorder/download-recording").decode())
    attributes = {(k, v[0]) for k, v in publish.items() if k.startswith("MessageAttributes.")}
    assert attributes == {("MessageAttributes.entry.1.Name", "AWS.SNS.SMS.SMSType"),
                          ("MessageAttributes.entry.1.Value.DataType", "String"),
                          ("MessageAttributes.entry.1.Value.StringValue", "Transactional")}
    assert (publish["PhoneNumber"], publish["Message"]) == (["+79161234567"], [sms[0]["message"]])


def test_email_really_goes_through_ses(api):
    api.post("/auth/registrations", {"last_name": "Орлова", "first_name": "Мария", "email": "m@mail.ru"})
    api.pump.drain()
    stats = aws.client("ses").get_send_statistics()["SendDataPoints"]
    assert sum(p["DeliveryAttempts"] for p in stats) == 1


def test_duplicate_delivery_sends_once(api):
    api.post("/auth/registrations", BODY)
    item = _outbox_items()[0]
    event = {"id": item["id"], "type": item["type"], "subject": item["subject"], "at": item["at"],
             "data": item["data"]}
    record = {"messageId": "m1", "body": json.dumps(event)}
    assert notify_worker.handle_batch([record, {**record, "messageId": "m2"}]) == {"batchItemFailures": []}
    api.pump.drain()  # the pump delivers the same event a third time
    assert len(api.outbox(PHONE)) == 1


def test_a_failing_message_is_retried_alone_then_lands_in_the_dlq(api, monkeypatch):
    """A send that fails is the delivery's own retry (tests/test_notifications.py); an event the worker cannot
    handle at all (here: its text cannot be made) fails alone, is received 5 times (the queue's maxReceiveCount)
    and lands in the DLQ."""
    import time

    from chalicelib.notify import render

    tries = []
    real = render.render

    def broken(message):
        if message.to == PHONE:
            tries.append(message.to)
            raise RuntimeError("template store unavailable")
        return real(message)

    monkeypatch.setattr(notify_worker, "render", broken)
    api.post("/auth/registrations", BODY)
    api.post("/auth/registrations", {**BODY, "phone": "+79160000000"})
    sqs = aws.client("sqs")
    notify = sqs.get_queue_url(QueueName=settings().name("notify"))["QueueUrl"]
    redrive = sqs.get_queue_attributes(QueueUrl=notify, AttributeNames=["RedrivePolicy"])["Attributes"]
    assert json.loads(redrive["RedrivePolicy"])["maxReceiveCount"] == 5  # architecture.md: the DLQ after 5 receives
    dlq = sqs.get_queue_url(QueueName=settings().name("notify-dlq"))["QueueUrl"]
    deadline = time.monotonic() + 30
    moved = []
    while time.monotonic() < deadline and not moved:
        api.pump.step()
        moved = sqs.receive_message(QueueUrl=dlq, VisibilityTimeout=0,
                                    AttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
        time.sleep(0.2)
    assert api.outbox("+79160000000") and not api.outbox(PHONE)  # the good message went through at once
    assert len(moved) == 1 and json.loads(moved[0]["Body"])["data"]["to"] == PHONE
    # SQS counts receives across all queues: five from the notify queue, then this one from the DLQ; a message
    # moved after one failure would say 2
    assert moved[0]["Attributes"]["ApproximateReceiveCount"] == str(5 + 1)
    assert len(tries) == 5  # and the worker itself ran it five times
    # and the failed attempt left no "already processed" mark behind
    assert table.get(keys.processed(json.loads(moved[0]["Body"])["id"], "notify")) is None


def test_sweeper_publishes_what_the_stream_missed(api, fake_clock):
    api.post("/auth/registrations", BODY)
    api.pump.shards.clear()  # simulate a lost stream batch: forget shard positions...
    api.pump._refresh_shards = lambda: None  # ...and read no stream at all
    api.pump.drain()
    assert len(_outbox_items()) == 1
    fake_clock.advance(300)
    ran = api.post("/dev/schedules/outbox_sweeper")
    assert ran.status_code == 200 and ran.json["result"] == {"published": 1, "registry_checks_resumed": 0,
                                                            "payments_expired": 0, "payments_polled": 0,
                                                            "notifications_sent": 0}
    api.pump.drain()
    assert _outbox_items() == []
    assert len(api.get(f"/dev/outbox?to={PHONE}").json) == 1


def test_unknown_schedule_is_404(api):
    assert api.post("/dev/schedules/nope").status_code == 404
    assert api.post("/dev/schedules/notify_worker").status_code == 404


def test_dev_routes_exist_only_in_stage_local():
    root = Path(__file__).resolve().parent.parent
    code = "import app; print(sorted(app.app.routes))"
    for stage, expected in (("prod", False), ("local", True)):
        out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True,
                             env={"KABINET_STAGE": stage, "PATH": "/usr/bin:/bin"}).stdout
        assert ("/dev/outbox" in out) is expected, stage
