"""The local event pump: delivers what Lambda's event sources would deliver, to the same handlers.

- DynamoDB stream records → the `on_dynamodb_record` handler, in order, retrying from a reported
  failure (ReportBatchItemFailures semantics);
- SQS messages → each `on_sqs_message` handler in batches; failed records are made visible again
  soon and, after the queue's maxReceiveCount, SQS moves them to the DLQ;
- S3 object events → the functions named in infra/resources.py's S3_TRIGGERS: the bucket notifies an
  SQS queue of the pump's own (on AWS, the template points the notification at the Lambda); a failing
  event is retried like Lambda's asynchronous invocation (twice) and then dropped with an error in the
  log (on AWS it goes to the function's on-failure queue);
- schedules → `schedule` handlers at their rate (on demand: POST /dev/schedules/{name});
- the local acquirer's webhooks (infra/acquirer_simulator.py) → `acquirer_post(body, headers)`: infra.local posts
  them to the API over HTTP; by default (tests) they go to the app in-process through chalice's test client;
- delivery feedback (issue 14): the `feedback` queue → the plain function `delivery_feedback` like the other
  queues; the local providers' feedback (infra/delivery_simulator.py) when due: SES events published to the
  `delivery-feedback` topic (so they reach that queue), SMS statuses as CloudWatch Logs subscription invocations.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

import boto3

from chalicelib.adapters.acquirer import WEBHOOK_PATH
from chalicelib.events.scheduled import scheduled_event
from infra import acquirer_simulator, delivery_simulator
from infra.functions import ASYNC_RETRIES, STREAM_RETRIES
from infra.resources import FEEDBACK, S3_TRIGGERS, S3Trigger
from infra.resources import name as resource_name

log = logging.getLogger("kabinet.pump")
RETRY_VISIBILITY = 1
S3_ATTEMPTS = 1 + ASYNC_RETRIES  # Lambda's asynchronous invocation: the first try and the template's retries


@dataclass
class _Shard:
    iterator: str | None
    pending: list[dict[str, Any]] = field(default_factory=list)
    tries: int = 0


@dataclass(frozen=True)
class _PlainSource:
    """A plain function's queue, in the shape of chalice's SQS event source that `pump_queues` reads."""

    name: str
    batch_size: int


_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_UNIT = {"minute": 60, "hour": 3600, "day": 86400}


class Pump:
    def __init__(self, app: Any, region: str, table: str, stage: str = "local",
                 acquirer_post: acquirer_simulator.Post | None = None) -> None:
        self.app = app
        self.acquirer_post = acquirer_post or self._post_in_process
        self._client: Any = None
        self.region = region
        self.ddb_streams = boto3.client("dynamodbstreams", region_name=region)
        self.sqs = boto3.client("sqs", region_name=region)
        self.stream_arn = boto3.client("dynamodb", region_name=region).describe_table(
            TableName=table)["Table"]["LatestStreamArn"]
        self.shards: dict[str, _Shard] = {}
        self.queues: list[tuple[Any, str, str]] = []
        self.schedules: list[list[Any]] = []
        self.s3_queues = [(trigger.function, self._wire_bucket(trigger, stage)) for trigger in S3_TRIGGERS]
        for source in app.event_sources:
            if hasattr(source, "queue") and source.queue:
                url = self.sqs.get_queue_url(QueueName=source.queue)["QueueUrl"]
                arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                self.queues.append((source, url, arn))
            elif hasattr(source, "schedule_expression"):
                match = _RATE.fullmatch(str(source.schedule_expression))
                if match:
                    period = int(match.group(1)) * _UNIT[match.group(2).rstrip("s")]
                    self.schedules.append([source.name, period, time.monotonic() + period])
        self._wire_feedback(stage)
        self.stream_handler = next(self.app.handler_map[s.name] for s in app.event_sources
                                   if hasattr(s, "stream_arn"))

    # -- DynamoDB stream --------------------------------------------------------------------------
    def _refresh_shards(self) -> None:
        desc = self.ddb_streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in desc["Shards"]:
            if shard["ShardId"] not in self.shards:
                it = self.ddb_streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard["ShardId"],
                                                         ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
                self.shards[shard["ShardId"]] = _Shard(it)

    def pump_stream(self) -> int:
        self._refresh_shards()
        delivered = 0
        for shard in self.shards.values():
            if not shard.pending and shard.iterator:
                resp = self.ddb_streams.get_records(ShardIterator=shard.iterator, Limit=100)
                shard.iterator = resp.get("NextShardIterator")
                shard.pending = resp.get("Records", [])
            if not shard.pending:
                continue
            batch = shard.pending
            for record in batch:
                record.setdefault("eventSourceARN", self.stream_arn)
            result = self.stream_handler({"Records": batch}, None) or {}
            failed = [f["itemIdentifier"] for f in result.get("batchItemFailures", [])]
            if not failed:
                delivered += len(batch)
                shard.pending, shard.tries = [], 0
                continue
            first = next(i for i, r in enumerate(batch) if r["dynamodb"].get("SequenceNumber") in failed)
            delivered += first
            shard.tries += 1
            if shard.tries >= STREAM_RETRIES:  # Lambda would send it to the on-failure destination
                log.error("stream record %s failed %d times; skipped (the outbox sweeper retries it)",
                          failed[0], shard.tries)
                shard.pending, shard.tries = batch[first + 1:], 0
            else:
                shard.pending = batch[first:]
        return delivered

    # -- SQS ----------------------------------------------------------------------------------------
    def pump_queues(self) -> int:
        delivered = 0
        for source, url, arn in self.queues:
            resp = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(source.batch_size, 10),
                                            AttributeNames=["All"], MessageAttributeNames=["All"])
            messages = resp.get("Messages", [])
            if not messages:
                continue
            records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                        "attributes": m.get("Attributes", {}), "messageAttributes": m.get("MessageAttributes", {}),
                        "md5OfBody": m.get("MD5OfBody"), "eventSource": "aws:sqs", "eventSourceARN": arn,
                        "awsRegion": self.region} for m in messages]
            result = self.app.handler_map[source.name]({"Records": records}, None) or {}
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            done = [r for r in records if r["messageId"] not in failed]
            if done:
                self.sqs.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(done)])
            for r in records:
                if r["messageId"] in failed:
                    self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=r["receiptHandle"],
                                                       VisibilityTimeout=RETRY_VISIBILITY)
            delivered += len(done)
        return delivered

    # -- S3 events ----------------------------------------------------------------------------------
    def _wire_bucket(self, trigger: S3Trigger, stage: str) -> str:
        """The template's Lambda notification, pointed at a queue of the pump's own."""
        url = self.sqs.create_queue(QueueName=f"local-s3-{trigger.function}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        config = {"QueueArn": arn, **trigger.notification()}
        boto3.client("s3", region_name=self.region).put_bucket_notification_configuration(
            Bucket=trigger.bucket(stage), NotificationConfiguration={"QueueConfigurations": [config]})
        return url

    def pump_s3(self) -> int:
        delivered = 0
        for name, url in self.s3_queues:
            resp = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                            AttributeNames=["ApproximateReceiveCount"])
            for message in resp.get("Messages", []):
                event = json.loads(message["Body"])
                try:
                    if "Records" in event:  # the first message is S3's own "s3:TestEvent"
                        self.app.handler_map[name](event, None)
                    delivered += 1
                except Exception:
                    attempts = int(message["Attributes"].get("ApproximateReceiveCount", "1"))
                    log.exception("S3 event for %s failed (attempt %d of %d)", name, attempts, S3_ATTEMPTS)
                    if attempts < S3_ATTEMPTS:
                        self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"],
                                                           VisibilityTimeout=RETRY_VISIBILITY)
                        continue
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return delivered

    # -- schedules ----------------------------------------------------------------------------------
    def pump_schedules(self) -> int:
        ran = 0
        for entry in self.schedules:
            name, period, due = entry
            if time.monotonic() >= due:
                entry[2] = time.monotonic() + period
                self.run_schedule(name)
                ran += 1
        return ran

    def run_schedule(self, name: str) -> Any:
        return self.app.handler_map[name](scheduled_event(name), None)

    # -- the acquirer simulator's webhooks (stage local only) ---------------------------------------
    def pump_acquirer(self) -> int:
        return acquirer_simulator.deliver_webhooks(self.acquirer_post)

    def _post_in_process(self, body: bytes, headers: dict[str, str]) -> int:
        if self._client is None:
            from chalice.test import Client

            self._client = Client(self.app, stage_name="local")
        return self._client.http.post(WEBHOOK_PATH, headers=headers, body=body).status_code

    # -- delivery feedback (issue 14; docs/delivery-feedback.md) ---------------------------------------
    def _wire_feedback(self, stage: str) -> None:
        """The plain function's SQS event source (infra/functions.py wires it on AWS), pumped like the others."""
        url = self.sqs.get_queue_url(QueueName=resource_name(stage, FEEDBACK.queue))["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.queues.append((_PlainSource(FEEDBACK.function, 10), url, arn))

    def pump_feedback(self) -> int:
        handler = self.app.handler_map[FEEDBACK.function]
        return delivery_simulator.deliver_due(lambda event: handler(event, None))

    def step(self) -> int:
        moved = 0
        for part in (self.pump_stream, self.pump_queues, self.pump_s3, self.pump_schedules, self.pump_acquirer,
                     self.pump_feedback):
            try:
                moved += part()
            except Exception:
                log.exception("pump step failed in %s", part.__name__)
        return moved

    def drain(self, rounds: int = 50) -> None:
        """Deliver until nothing moves twice in a row (tests call this after each request)."""
        idle = 0
        for _ in range(rounds):
            idle = idle + 1 if self.step() == 0 else 0
            if idle >= 2:
                return

    def run_forever(self, stop: Any, interval: float = 0.2) -> None:
        while not stop.is_set():
            if self.step() == 0:
                stop.wait(interval)
