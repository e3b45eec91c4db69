"""Event backbone: outbox in the same transaction, stream → SNS → SQS → notify, idempotency, DLQ, sweeper."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from chalicelib.core import aws
from chalicelib.core.config import settings
from chalicelib.events import notify_worker
from chalicelib.store import keys, table

PHONE = "+79161234567"
BODY = {"last_name": "Кузнецов", "first_name": "Алексей", "phone": PHONE}


def _outbox_items():
    return table.query("OUTBOX", index="GSI1", newest_first=False, limit=100).items


def _sns_sms(moto_server):
    import urllib.request
    data = json.loads(urllib.request.urlopen(f"{moto_server}/moto-api/data.json").read())
    return data


def test_outbox_item_is_written_with_the_change_and_removed_after_publishing(api):
    api.post("/auth/registrations", BODY)
    pending = _outbox_items()
    assert [i["type"] for i in pending] == ["code.requested"]
    api.pump.drain()
    assert _outbox_items() == []
    assert len(api.outbox(PHONE)) == 1


def test_sms_really_goes_through_sns(api, moto_server):
    api.post("/auth/registrations", BODY)
    api.pump.drain()
    sns = aws.client("sns")
    # moto records SMS sent with publish(PhoneNumber=...) in its backend state
    state = json.dumps(_sns_sms(moto_server), ensure_ascii=False)
    assert "sns" in state.lower()
    assert sns.list_topics()["Topics"]


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
    dlq = sqs.get_queue_url(QueueName=settings().name("notify-dlq"))["QueueUrl"]
    deadline = time.monotonic() + 30
    moved = []
    while time.monotonic() < deadline and not moved:
        api.pump.step()
        moved = sqs.receive_message(QueueUrl=dlq, VisibilityTimeout=0).get("Messages", [])
        time.sleep(0.2)
    assert api.outbox("+79160000000") and not api.outbox(PHONE)  # the good message went through at once
    assert len(moved) == 1 and json.loads(moved[0]["Body"])["data"]["to"] == PHONE
    assert len(tries) == 5  # received five times, not sent to the DLQ after one failure
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
