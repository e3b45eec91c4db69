"""The deployment gate: prod packages with no credentials, lints clean, scans clean against the baseline, and
the CloudFormation that the SAM transform makes of it creates what the issue lists (issue 10).

Expected values are written out here (function names, queue names, settings from the issue and
.chalice/config.json), not derived from infra/functions.py, so a change there that drops a piece fails.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.xdist_group("deploy")

FUNCTIONS = {"APIHandler": "api-handler", "OutboxPublisher": "outbox-publisher", "NotifyWorker": "notify-worker",
             "AgencyWorker": "agency-worker", "DocumentChecker": "document-checker",
             "OutboxSweeper": "outbox-sweeper", "PasswordExpiryReminder": "password-expiry-reminder",
             "DeliveryFeedback": "delivery-feedback"}
ASYNC = ("DocumentChecker", "OutboxSweeper", "PasswordExpiryReminder", "DeliveryFeedback")
TIMEOUTS = {"NotifyWorker": 20, "AgencyWorker": 60}  # .chalice/config.json


@pytest.fixture(scope="session")
def gate(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from infra import gate

    return gate.run("prod", tmp_path_factory.mktemp("build") / "prod")


@pytest.fixture(scope="session")
def sam(gate: Any) -> dict[str, Any]:
    return json.loads(Path(gate.sam).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def cfn(gate: Any) -> dict[str, Any]:
    return json.loads(Path(gate.cloudformation).read_text(encoding="utf-8"))["Resources"]


def _of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in resources.items() if v["Type"] == kind}


def _mapping(cfn: dict[str, Any], function: str) -> dict[str, Any]:
    [props] = [m["Properties"] for m in _of_type(cfn, "AWS::Lambda::EventSourceMapping").values()
               if m["Properties"]["FunctionName"] == {"Ref": f"{function}Aliaslive"}]
    return props


def test_prod_packages_with_no_credentials_and_lints_clean(gate):
    import sys
    import zipfile

    package = gate.sam.with_name("deployment.zip")
    assert gate.sam.exists() and package.stat().st_size > 1_000_000
    assert gate.lint == [], "cfn-lint: 0 errors and 0 warnings"
    with zipfile.ZipFile(package) as z:
        names = set(z.namelist())
        unpacked = sum(i.file_size for i in z.infolist())
    assert "app.py" in names and unpacked < 250 * 1024 * 1024  # Lambda's limit for an unpacked package
    if sys.version_info[:2] == (3, 11):  # the functions' runtime: the package carries compiled modules
        assert "chalicelib/core/__pycache__/config.cpython-311.pyc" in names
        assert any(n.startswith("botocore/__pycache__/") for n in names)


def test_checkov_finds_nothing_outside_the_baseline(gate):
    assert gate.new == [], "a finding that is not accepted in infra/checkov-baseline.json"
    assert gate.stale == []
    baseline = json.loads(Path("infra/checkov-baseline.json").read_text(encoding="utf-8"))["accepted"]
    assert all(len(entry["reason"]) > 40 for entry in baseline.values()), "each accepted finding says why"


def test_a_new_checkov_finding_fails_the_gate():
    from infra.gate import compare

    new, stale = compare([("CKV_AWS_116", "APIHandler"), ("CKV_AWS_999", "MainTable")])
    assert new == ["CKV_AWS_999 on MainTable"]
    assert any("CKV_AWS_117 on APIHandler" in s for s in stale)


def test_every_function_is_packaged_with_its_name_alias_log_group_and_concurrency(sam, cfn):
    functions = _of_type(cfn, "AWS::Lambda::Function")
    assert set(functions) == set(FUNCTIONS)
    for logical, physical in FUNCTIONS.items():
        props = functions[logical]["Properties"]
        assert props["FunctionName"] == f"kabinet-prod-{physical}"
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["Environment"]["Variables"]["KABINET_EVENTS_TOPIC_ARN"] == {"Ref": "EventsTopic"}
        assert props["Environment"]["Variables"]["KABINET_TABLE"] == {"Ref": "MainTable"}
        assert props["Environment"]["Variables"]["KABINET_STAGE"] == "prod"
        assert props["Environment"]["Variables"]["KABINET_SES_CONFIGURATION_SET"] == {"Ref": "MailConfigurationSet"}
        assert cfn[f"{logical}Aliaslive"]["Type"] == "AWS::Lambda::Alias"
        log_groups = [g["Properties"] for g in _of_type(cfn, "AWS::Logs::LogGroup").values()
                      if g["Properties"]["LogGroupName"] == f"/aws/lambda/kabinet-prod-{physical}"]
        assert len(log_groups) == 1 and log_groups[0]["RetentionInDays"] > 0 and log_groups[0]["KmsKeyId"]
        if logical in TIMEOUTS:
            assert _mapping(cfn, logical)["ScalingConfig"]["MaximumConcurrency"] == 20
        else:
            assert props["ReservedConcurrentExecutions"] > 0
    assert functions["APIHandler"]["Properties"]["MemorySize"] == 1769  # the prod stage's own setting
    assert functions["PasswordExpiryReminder"]["Properties"]["Timeout"] == 300


def test_the_stream_is_read_from_this_stack_with_partial_failures_bisect_retries_and_an_on_failure_queue(cfn):
    props = _mapping(cfn, "OutboxPublisher")
    assert props["EventSourceArn"] == {"Fn::GetAtt": ["MainTable", "StreamArn"]}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BisectBatchOnFunctionError"] is True
    assert 0 < props["MaximumRetryAttempts"] <= 10
    destination = props["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    assert cfn[destination]["Properties"]["QueueName"] == "kabinet-prod-outbox-publisher-failed"


@pytest.mark.parametrize(("function", "queue"), [("NotifyWorker", "NotifyQueue"), ("AgencyWorker", "AgencyQueue")])
def test_each_queue_mapping_reads_its_queue_reports_failures_and_the_queue_has_a_dlq(cfn, function, queue):
    props = _mapping(cfn, function)
    assert props["EventSourceArn"] == {"Fn::Sub": f"${{{queue}.Arn}}"}  # an implicit dependency on the queue
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue_props = cfn[queue]["Properties"]
    assert queue_props["VisibilityTimeout"] >= 6 * TIMEOUTS[function]
    dlq = queue_props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert cfn[dlq]["Type"] == "AWS::SQS::Queue"
    assert queue_props["KmsMasterKeyId"] == {"Ref": "QueuesKey"}


def test_the_worker_leases_outlast_their_function_timeouts():
    from chalicelib.events import agency_worker, notify_worker

    assert TIMEOUTS["NotifyWorker"] <= notify_worker.LEASE and TIMEOUTS["AgencyWorker"] <= agency_worker.LEASE


def test_uploads_invoke_the_document_checker_and_asynchronous_failures_are_kept(cfn):
    bucket = cfn["DocumentsBucket"]
    [config] = bucket["Properties"]["NotificationConfiguration"]["LambdaConfigurations"]
    assert config["Function"] == {"Ref": "DocumentCheckerAliaslive"}
    assert config["Event"] == "s3:ObjectCreated:*"
    assert config["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": "u/"}]
    [permission] = [p["Properties"] for p in _of_type(cfn, "AWS::Lambda::Permission").values()
                    if p["Properties"]["Principal"] == "s3.amazonaws.com"]
    assert permission["SourceArn"] == "arn:aws:s3:::kabinet-prod-documents"
    assert permission["FunctionName"] == {"Ref": "DocumentCheckerAliaslive"}
    configs = {c["Properties"]["FunctionName"]["Ref"]: c["Properties"]
               for c in _of_type(cfn, "AWS::Lambda::EventInvokeConfig").values()}
    assert set(configs) == set(ASYNC)
    for function, props in configs.items():
        target = props["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
        assert cfn[target]["Type"] == "AWS::SQS::Queue", function


def test_every_queue_nobody_consumes_has_a_depth_alarm(cfn):
    consumed = {m["Properties"]["EventSourceArn"].get("Fn::Sub", "")[2:-len(".Arn}")]
                for m in _of_type(cfn, "AWS::Lambda::EventSourceMapping").values()}
    terminal = {k: v["Properties"]["QueueName"] for k, v in _of_type(cfn, "AWS::SQS::Queue").items()
                if k not in consumed}
    # three DLQs (notify, agency, feedback), the stream's on-failure queue, four asynchronous on-failure queues
    assert len(terminal) == 8
    watched = {a["Properties"]["Dimensions"][0]["Value"] for a in _of_type(cfn, "AWS::CloudWatch::Alarm").values()
               if a["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
               and a["Properties"]["Threshold"] == 0}
    assert watched == set(terminal.values())


def test_alarms_cover_5xx_latency_throttles_and_iterator_age_and_a_dashboard_exists(cfn):
    alarms = [a["Properties"] for a in _of_type(cfn, "AWS::CloudWatch::Alarm").values()]
    by_metric: dict[str, list[dict[str, Any]]] = {}
    for alarm in alarms:
        by_metric.setdefault(alarm["MetricName"], []).append(alarm)
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    assert by_metric["5XXError"][0]["Dimensions"] == [{"Name": "ApiName", "Value": "kabinet-prod-api"},
                                                       {"Name": "Stage", "Value": "api"}]
    assert by_metric["Latency"][0]["ExtendedStatistic"] == "p99"
    throttled = {a["Dimensions"][0]["Value"] for a in by_metric["Throttles"]}
    assert throttled == {f"kabinet-prod-{p}" for p in FUNCTIONS.values()}
    assert [a["Dimensions"][0]["Value"] for a in by_metric["IteratorAge"]] == ["kabinet-prod-outbox-publisher"]
    assert len(_of_type(cfn, "AWS::CloudWatch::Dashboard")) == 1


def test_the_api_invokes_the_alias_with_provisioned_concurrency_autoscaling_and_a_canary(cfn):
    api = _of_type(cfn, "AWS::ApiGateway::RestApi")["RestAPI"]["Properties"]
    uris = [op["x-amazon-apigateway-integration"]["uri"] for ops in api["Body"]["paths"].values()
            for op in ops.values() if op["x-amazon-apigateway-integration"]["type"] == "aws_proxy"]
    assert len(uris) > 60 and all(u["Fn::Sub"][1] == {"Alias": {"Ref": "APIHandlerAliaslive"}} for u in uris)
    assert not any(path.startswith("/dev") for path in api["Body"]["paths"]), "local-only routes stay local"
    assert cfn["APIHandlerAliaslive"]["Properties"]["ProvisionedConcurrencyConfig"][
        "ProvisionedConcurrentExecutions"] == 5
    [target] = _of_type(cfn, "AWS::ApplicationAutoScaling::ScalableTarget").values()
    assert target["Properties"]["ResourceId"] == "function:kabinet-prod-api-handler:live"
    assert (target["Properties"]["MinCapacity"], target["Properties"]["MaxCapacity"]) == (5, 100)
    [policy] = _of_type(cfn, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    tracking = policy["Properties"]["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["PredefinedMetricSpecification"]["PredefinedMetricType"] == \
        "LambdaProvisionedConcurrencyUtilization"
    groups = _of_type(cfn, "AWS::CodeDeploy::DeploymentGroup")
    api_group = groups["APIHandlerDeploymentGroup"]["Properties"]
    assert api_group["AutoRollbackConfiguration"]["Enabled"] is True
    assert {a["Name"]["Ref"] for a in api_group["AlarmConfiguration"]["Alarms"]} >= {"Api5xxAlarm",
                                                                                       "ApiLatencyAlarm"}
    stage = cfn["RestAPIapiStage"]["Properties"]
    assert stage["TracingEnabled"] is True and "$context.requestId" in stage["AccessLogSetting"]["Format"]


def test_data_is_kept_protected_and_encrypted(cfn):
    for logical in ("MainTable", "DocumentsBucket", "DocumentsKey", "DataKey", "TokenSigningSecret",
                    "DocumentSigningSecret", "SsoSigningSecret"):
        assert cfn[logical]["DeletionPolicy"] == "Retain" and cfn[logical]["UpdateReplacePolicy"] == "Retain"
    table = cfn["MainTable"]["Properties"]
    assert table["DeletionProtectionEnabled"] is True
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"]["KMSMasterKeyId"] == {"Ref": "DataKey"}
    bucket = cfn["DocumentsBucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"][
        "SSEAlgorithm"] == "aws:kms"
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["CorsConfiguration"]["CorsRules"][0]["AllowedOrigins"] == ["https://kabinet.example"]
    [tls] = cfn["DocumentsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_each_role_is_its_own_and_names_only_this_stage(cfn):
    roles = {k: v for k, v in _of_type(cfn, "AWS::IAM::Role").items() if k.endswith("Role") and
             k[:-4] in {"ApiHandler", *FUNCTIONS}}
    assert len(roles) == len(FUNCTIONS)
    for logical, role in roles.items():
        text = json.dumps(role["Properties"]["Policies"])
        assert "kabinet-*" not in text and "kabinet-dev" not in text, logical
        for statement in role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]:
            if "*" in statement["Resource"]:
                assert logical == "NotifyWorkerRole" and statement["Action"] == ["sns:Publish"], statement
    notify = json.dumps(roles["NotifyWorkerRole"]["Properties"]["Policies"])
    assert '"Effect": "Deny"' in notify  # the SMS `*` cannot publish to topics
    api = json.dumps(roles["ApiHandlerRole"]["Properties"]["Policies"])
    assert "ses:SendEmail" not in api and "sns:Publish" not in api and "dynamodb:GetRecords" not in api


# -- single sign-on (issue 15): which function may read which secret, written out (least privilege) --
SECRET_READERS = {
    "TokenSigningSecret": {"ApiHandlerRole"}, "DocumentSigningSecret": {"ApiHandlerRole", "AgencyWorkerRole"},
    "EsignTrustSecret": {"ApiHandlerRole"}, "AcquirerWebhookSecret": {"ApiHandlerRole"},
    # the API signs id_tokens and derives pairwise subs; the agency worker signs back-channel logout tokens
    "SsoSigningSecret": {"ApiHandlerRole", "AgencyWorkerRole"},
}
SECRET_VARIABLES = {"TokenSigningSecret": "KABINET_SIGNING_SECRET",
                    "DocumentSigningSecret": "KABINET_DOCUMENT_SIGNING_SECRET",
                    "EsignTrustSecret": "KABINET_ESIGN_TRUST_SECRET",
                    "AcquirerWebhookSecret": "KABINET_ACQUIRER_WEBHOOK_SECRET",
                    "SsoSigningSecret": "KABINET_SSO_SECRET"}


def test_every_secret_is_wired_encrypted_and_readable_only_by_the_functions_that_need_it(cfn):
    secrets = _of_type(cfn, "AWS::SecretsManager::Secret")
    assert set(secrets) == set(SECRET_READERS)
    readers: dict[str, set[str]] = {s: set() for s in secrets}
    for logical, role in _of_type(cfn, "AWS::IAM::Role").items():
        for statement in role["Properties"].get("Policies", [{}])[0].get("PolicyDocument", {}).get("Statement", []):
            if "secretsmanager:GetSecretValue" in statement["Action"]:
                assert statement["Action"] == ["secretsmanager:GetSecretValue"], logical
                for resource in statement["Resource"]:
                    readers[resource["Ref"]].add(logical)
    assert readers == SECRET_READERS
    for logical, secret in secrets.items():
        assert secret["DeletionPolicy"] == "Retain" and secret["Properties"]["KmsKeyId"] == {"Ref": "DataKey"}
        for function in FUNCTIONS:  # the name of each secret reaches the functions as its variable
            variables = cfn[function]["Properties"]["Environment"]["Variables"]
            assert variables[SECRET_VARIABLES[logical]] == {"Ref": logical}, (function, logical)


def _wiring(template: dict[str, Any], tmp_path: Path) -> tuple[int, str]:
    """infra/wiring.py as packaging runs it: in a process of its own that imports the prod app."""
    import subprocess
    import sys

    from infra.package import ROOT, _environment

    path = tmp_path / "sam.json"
    path.write_text(json.dumps(template), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "infra.wiring", "prod", str(path)], cwd=ROOT, text=True,
                          capture_output=True, env=_environment("prod", "eu-central-1"))
    return done.returncode, done.stderr


def test_the_wiring_check_names_what_is_missing(sam, tmp_path):
    assert _wiring(sam, tmp_path) == (0, "")
    broken = copy.deepcopy(sam)
    events = broken["Resources"]["NotifyWorker"]["Properties"]["Events"]["NotifyWorkerSqsEventSource"]
    del events["Properties"]["FunctionResponseTypes"]
    del broken["Resources"]["OutboxPublisher"]["Properties"]["Events"]["OutboxPublisherDynamodbEventSource"][
        "Properties"]["DestinationConfig"]
    del broken["Resources"]["AgencyQueueDlqDepthAlarm"]
    del broken["Resources"]["SmsFailedLogsSubscription"]
    del broken["Resources"]["MailEventDestination"]
    broken["Resources"]["Stray"] = {"Properties": {}}
    code, found = _wiring(broken, tmp_path)
    assert code == 1
    assert "notify_worker: its mapping does not report batch item failures" in found
    assert "outbox_publisher: failures do not go to OutboxPublisherFailures" in found
    assert "AgencyQueueDlq: no alarm on its depth" in found
    assert "Stray: merged onto nothing" in found
    assert "delivery_feedback: SmsFailedLogs has no subscription filter invoking it" in found
    assert "delivery_feedback: MailConfigurationSet publishes no events to DeliveryFeedbackTopic" in found


def test_api_gateway_passes_pdfs_and_multipart_forms_through_as_bytes(cfn):
    """POST /verify (a PDF as it is) and /check/file (a PDF in a plain form): API Gateway must not re-encode them as
    text, or the signature check sees other bytes than the person uploaded; the journal PDF goes out as bytes."""
    (api,) = _of_type(cfn, "AWS::ApiGateway::RestApi").values()
    body = api["Properties"]["Body"]
    types = set(api["Properties"].get("BinaryMediaTypes", []) or body.get("x-amazon-apigateway-binary-media-types", []))
    assert {"application/pdf", "multipart/form-data"} <= types, types


def test_delivery_feedback_reaches_its_function_from_ses_and_from_the_sms_status_logs(cfn):
    """Issue 14: SES events (configuration set → topic → queue → the function) and SNS's SMS delivery-status log
    groups (a subscription filter each, CloudWatch Logs allowed to invoke the alias)."""
    props = _mapping(cfn, "DeliveryFeedback")
    assert props["EventSourceArn"] == {"Fn::Sub": "${FeedbackQueue.Arn}"}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = cfn["FeedbackQueue"]["Properties"]
    assert queue["QueueName"] == "kabinet-prod-feedback" and queue["VisibilityTimeout"] >= 6 * 30
    assert cfn[queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]]["Properties"]["QueueName"] == \
        "kabinet-prod-feedback-dlq"
    topic = cfn["DeliveryFeedbackTopic"]["Properties"]
    assert topic["TopicName"] == "kabinet-prod-delivery-feedback" and topic["KmsMasterKeyId"] == {"Ref": "QueuesKey"}
    [subscription] = [s["Properties"] for s in _of_type(cfn, "AWS::SNS::Subscription").values()
                      if s["Properties"]["TopicArn"] == {"Ref": "DeliveryFeedbackTopic"}]
    assert subscription["Endpoint"] == {"Fn::GetAtt": ["FeedbackQueue", "Arn"]}
    assert subscription["Protocol"] == "sqs" and subscription["RawMessageDelivery"] is False
    [config_set] = _of_type(cfn, "AWS::SES::ConfigurationSet").values()
    assert config_set["Properties"]["Name"] == "kabinet-prod-mail"
    assert config_set["Properties"]["DeliveryOptions"] == {"TlsPolicy": "REQUIRE"}
    [destination] = [d["Properties"] for d in _of_type(cfn, "AWS::SES::ConfigurationSetEventDestination").values()]
    assert destination["ConfigurationSetName"] == {"Ref": "MailConfigurationSet"}
    assert destination["EventDestination"]["SnsDestination"] == {"TopicARN": {"Ref": "DeliveryFeedbackTopic"}}
    assert set(destination["EventDestination"]["MatchingEventTypes"]) == {
        "delivery", "bounce", "complaint", "reject", "deliveryDelay", "renderingFailure"}
    [policy] = [p["Properties"]["PolicyDocument"]["Statement"] for p in _of_type(cfn, "AWS::SNS::TopicPolicy").values()]
    assert policy[0]["Principal"] == {"Service": "ses.amazonaws.com"} and policy[0]["Action"] == "sns:Publish"
    groups = {k: g["Properties"] for k, g in _of_type(cfn, "AWS::Logs::LogGroup").items()
              if "DirectPublishToPhoneNumber" in json.dumps(g["Properties"]["LogGroupName"])}
    assert sorted(g["LogGroupName"]["Fn::Sub"] for g in groups.values()) == [
        "sns/${AWS::Region}/${AWS::AccountId}/DirectPublishToPhoneNumber",
        "sns/${AWS::Region}/${AWS::AccountId}/DirectPublishToPhoneNumber/Failure"]
    assert all(g["RetentionInDays"] > 0 and g["KmsKeyId"] for g in groups.values())
    filters = [f["Properties"] for f in _of_type(cfn, "AWS::Logs::SubscriptionFilter").values()]
    assert sorted(f["LogGroupName"]["Ref"] for f in filters) == sorted(groups)
    assert all(f["DestinationArn"] == {"Ref": "DeliveryFeedbackAliaslive"} and f["FilterPattern"] == ""
               for f in filters)
    permissions = [p["Properties"] for p in _of_type(cfn, "AWS::Lambda::Permission").values()
                   if p["Properties"]["Principal"] == "logs.amazonaws.com"]
    assert sorted(p["SourceArn"]["Fn::GetAtt"][0] for p in permissions) == sorted(groups)
    assert all(p["FunctionName"] == {"Ref": "DeliveryFeedbackAliaslive"} for p in permissions)
    role = cfn["SmsDeliveryStatusRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "sns.amazonaws.com"}
    resources = role["Policies"][0]["PolicyDocument"]["Statement"][0]["Resource"]
    assert len(resources) == 2 and all("DirectPublishToPhoneNumber" in r["Fn::Sub"] for r in resources)
