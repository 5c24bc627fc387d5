"""template.yaml deploys a stack that can be operated: logs kept for a bounded time, alarms on
what goes wrong, a dashboard, dead-letter queues for events, API access logs and throttling,
bucket lifecycle.

Each test reads the template (short tags in their long form, see tools/cfn_template.py)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from tools.cfn_template import functions, resources_of_type

# CloudWatch Logs accepts only these retention periods.
VALID_RETENTION_DAYS = {
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
}  # fmt: skip


def _log_group_named(template: dict[str, Any], name: Any) -> tuple[str, dict[str, Any]]:
    found = [
        (logical_id, resource)
        for logical_id, resource in resources_of_type(template, "AWS::Logs::LogGroup").items()
        if resource["Properties"].get("LogGroupName") == name
    ]
    assert len(found) == 1, f"expected one log group named {name}, found {found}"
    return found[0]


def _assert_bounded_retention(logical_id: str, log_group: dict[str, Any]) -> None:
    assert log_group["Properties"].get("RetentionInDays") == {"Ref": "LogRetentionDays"}, (
        f"{logical_id} keeps its logs for ever or for a fixed time, not LogRetentionDays"
    )


def test_log_retention_parameter(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["LogRetentionDays"]
    assert parameter["Type"] == "Number"
    assert parameter["Default"] == 30
    assert set(parameter["AllowedValues"]) <= VALID_RETENTION_DAYS
    assert parameter["Default"] in parameter["AllowedValues"]


def test_every_function_logs_to_its_own_log_group_with_retention(
    template: dict[str, Any],
) -> None:
    found = functions(template)
    assert found
    for logical_id, resource in found.items():
        props = resource["Properties"]
        name = props.get("FunctionName")
        assert isinstance(name, dict) and "Fn::Sub" in name, f"{logical_id} has no FunctionName"
        assert name["Fn::Sub"].startswith("pumpd-onboarding-${Stage}-"), name
        # the name Lambda would use by default, so the console's "View logs" finds it too
        log_group_id, log_group = _log_group_named(
            template, {"Fn::Sub": "/aws/lambda/" + name["Fn::Sub"]}
        )
        _assert_bounded_retention(log_group_id, log_group)
        assert props.get("LoggingConfig", {}).get("LogGroup") == {"Ref": log_group_id}, (
            f"{logical_id} does not write to {log_group_id} (LoggingConfig.LogGroup)"
        )
        # Lambda limits a function's name to 64 characters; Stage is at most 20.
        assert len(name["Fn::Sub"].replace("${Stage}", "x" * 20)) <= 64


def test_state_machine_and_api_logs_have_retention(template: dict[str, Any]) -> None:
    machine = template["Resources"]["Step6StateMachine"]["Properties"]
    (destination,) = machine["Logging"]["Destinations"]
    (log_group_id, _) = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"]
    _assert_bounded_retention(log_group_id, template["Resources"][log_group_id])
    api = template["Resources"]["Api"]["Properties"]
    (log_group_id, _) = api["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"]
    _assert_bounded_retention(log_group_id, template["Resources"][log_group_id])


def test_no_log_group_keeps_logs_for_ever(template: dict[str, Any]) -> None:
    for logical_id, log_group in resources_of_type(template, "AWS::Logs::LogGroup").items():
        _assert_bounded_retention(logical_id, log_group)


def test_api_access_logs_are_json_lines(template: dict[str, Any]) -> None:
    setting = template["Resources"]["Api"]["Properties"]["AccessLogSetting"]
    (log_group_id, attribute) = setting["DestinationArn"]["Fn::GetAtt"]
    assert attribute == "Arn"
    assert template["Resources"][log_group_id]["Type"] == "AWS::Logs::LogGroup"
    # API Gateway fills in the $context variables; the rest must already be one JSON object.
    line = json.loads(setting["Format"])
    assert {"requestId", "status", "httpMethod", "resourcePath", "responseLatency"} <= set(line)
    assert line["requestId"] == "$context.requestId"
    assert line["status"] == "$context.status"
    assert all(re.fullmatch(r"\$context\.[A-Za-z.]+", value) for value in line.values()), line
    # nothing that could carry a token or a password
    assert not any("authorization" in v.lower() or "body" in v.lower() for v in line.values())


def test_api_stage_is_throttled_from_parameters(template: dict[str, Any]) -> None:
    (setting,) = template["Resources"]["Api"]["Properties"]["MethodSettings"]
    assert setting["ResourcePath"] == "/*"
    assert setting["HttpMethod"] == "*"
    assert setting["ThrottlingBurstLimit"] == {"Ref": "ApiThrottlingBurstLimit"}
    assert setting["ThrottlingRateLimit"] == {"Ref": "ApiThrottlingRateLimit"}
    for name in ("ApiThrottlingBurstLimit", "ApiThrottlingRateLimit"):
        parameter = template["Parameters"][name]
        assert parameter["Type"] == "Number"
        assert parameter["Default"] >= parameter["MinValue"] >= 1


def test_every_queue_is_encrypted(template: dict[str, Any]) -> None:
    queues = resources_of_type(template, "AWS::SQS::Queue")
    assert {"ReconcileDeadLetterQueue", "ExecutionEventsDeadLetterQueue"} <= set(queues)
    for logical_id, queue in queues.items():
        assert queue["Properties"].get("SqsManagedSseEnabled") is True, logical_id
        assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600, logical_id


@pytest.mark.parametrize("event", ["Step6ExecutionEnded", "JobPipelineExecutionEnded"])
def test_status_change_rule_retries_then_dead_letters(template: dict[str, Any], event: str) -> None:
    rule = template["Resources"]["ReconcileFunction"]["Properties"]["Events"][event]["Properties"]
    retry = rule["RetryPolicy"]
    assert 0 < retry["MaximumRetryAttempts"] <= 185
    assert 60 <= retry["MaximumEventAgeInSeconds"] <= 86400
    queue = rule["DeadLetterConfig"]["Arn"]["Fn::GetAtt"]
    assert queue == ["ExecutionEventsDeadLetterQueue", "Arn"]
    # the function's own async DLQ is another queue (the reconciler failed, not the delivery)
    lambda_dlq = template["Resources"]["ReconcileFunction"]["Properties"]["DeadLetterQueue"]
    assert lambda_dlq["TargetArn"] != rule["DeadLetterConfig"]["Arn"]


def test_only_the_rule_may_write_to_the_events_dead_letter_queue(
    template: dict[str, Any],
) -> None:
    policies = [
        policy["Properties"]
        for policy in resources_of_type(template, "AWS::SQS::QueuePolicy").values()
        if {"Ref": "ExecutionEventsDeadLetterQueue"} in policy["Properties"]["Queues"]
    ]
    (policy,) = policies
    allows = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    (allow,) = allows
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Action"] == "sqs:SendMessage"
    assert allow["Resource"] == {"Fn::GetAtt": ["ExecutionEventsDeadLetterQueue", "Arn"]}
    # SAM names the rule it generates <Function><EventName>; cfn-lint (test_lint) resolves it
    sources = allow["Condition"]["ArnEquals"]["aws:SourceArn"]
    events = template["Resources"]["ReconcileFunction"]["Properties"]["Events"]
    rules = [name for name, event in events.items() if event["Type"] == "EventBridgeRule"]
    assert sorted(rules) == ["JobPipelineExecutionEnded", "Step6ExecutionEnded"]
    assert sorted(sources, key=str) == [
        {"Fn::GetAtt": [f"ReconcileFunction{name}", "Arn"]} for name in sorted(rules)
    ]


def test_bucket_lifecycle_and_protection(template: dict[str, Any]) -> None:
    props = template["Resources"]["ArtifactsBucket"]["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = [r for r in props["LifecycleConfiguration"]["Rules"] if r["Status"] == "Enabled"]
    noncurrent = [
        r["NoncurrentVersionExpiration"] for r in rules if "NoncurrentVersionExpiration" in r
    ]
    assert noncurrent == [{"NoncurrentDays": 30}]
    aborts = [
        r["AbortIncompleteMultipartUpload"] for r in rules if "AbortIncompleteMultipartUpload" in r
    ]
    assert len(aborts) == 1
    assert 1 <= aborts[0]["DaysAfterInitiation"] <= 7
    # no rule filters by prefix or tag: they cover every object
    assert all("Prefix" not in r and "Filter" not in r for r in rules)
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (encryption,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}


# --- alarms and dashboard -------------------------------------------------------------------

ALARM_TOPIC = {"Fn::If": ["CreateAlarmTopic", {"Ref": "AlarmTopic"}, {"Ref": "AlarmTopicArn"}]}
STATE_MACHINE = [{"Name": "StateMachineArn", "Value": {"Ref": "Step6StateMachine"}}]
API_STAGE = [
    {"Name": "ApiName", "Value": {"Fn::Sub": "pumpd-onboarding-${Stage}"}},
    {"Name": "Stage", "Value": {"Ref": "Stage"}},
]


def _queue(logical_id: str) -> list[dict[str, Any]]:
    return [{"Name": "QueueName", "Value": {"Fn::GetAtt": [logical_id, "QueueName"]}}]


# alarm -> (namespace, metric, dimensions, statistic): what it must watch
ALARMS: dict[str, tuple[str, str, list[dict[str, Any]], str]] = {
    "Step6ExecutionsFailedAlarm": ("AWS/States", "ExecutionsFailed", STATE_MACHINE, "Sum"),
    "Step6ExecutionsTimedOutAlarm": ("AWS/States", "ExecutionsTimedOut", STATE_MACHINE, "Sum"),
    "ReconcileDeadLetterQueueAlarm": (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        _queue("ReconcileDeadLetterQueue"),
        "Maximum",
    ),
    "ExecutionEventsDeadLetterQueueAlarm": (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        _queue("ExecutionEventsDeadLetterQueue"),
        "Maximum",
    ),
    "Api5xxErrorAlarm": ("AWS/ApiGateway", "5XXError", API_STAGE, "Sum"),
}


# The platform sandbox is a stand-in deployed for trials (PlatformMode=sandbox), not part of
# the service: its errors reach operators as the phases' sub-step failures and the Step 6
# alarms, and a production stack (PlatformMode=http) has no such function.
NOT_ALARMED = {"PlatformSandboxFunction"}


def _function_alarms(template: dict[str, Any]) -> dict[str, tuple[str, str, list[Any], str]]:
    expected = {}
    for logical_id in set(functions(template)) - NOT_ALARMED:
        dims = [{"Name": "FunctionName", "Value": {"Ref": logical_id}}]
        for metric in ("Errors", "Throttles"):
            expected[f"{logical_id}{metric}Alarm"] = ("AWS/Lambda", metric, dims, "Sum")
    return expected


def test_alarm_topic_parameter_and_condition(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["AlarmTopicArn"]
    assert parameter["Default"] == ""
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("")
    assert pattern.fullmatch("arn:aws:sns:us-east-1:123456789012:ops-alarms")
    assert not pattern.fullmatch("ops-alarms")
    assert template["Conditions"]["CreateAlarmTopic"] == {
        "Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]
    }
    topic = template["Resources"]["AlarmTopic"]
    assert topic["Type"] == "AWS::SNS::Topic"
    assert topic["Condition"] == "CreateAlarmTopic"
    assert template["Outputs"]["AlarmTopicArn"]["Value"] == ALARM_TOPIC


def test_every_alarm_watches_its_metric_and_notifies_the_topic(template: dict[str, Any]) -> None:
    expected = ALARMS | _function_alarms(template)
    alarms = resources_of_type(template, "AWS::CloudWatch::Alarm")
    assert set(alarms) == set(expected)
    for logical_id, (namespace, metric, dimensions, statistic) in expected.items():
        props = alarms[logical_id]["Properties"]
        assert (props["Namespace"], props["MetricName"]) == (namespace, metric), logical_id
        assert props["Dimensions"] == dimensions, logical_id
        assert props["Statistic"] == statistic, logical_id
        assert props["AlarmActions"] == [ALARM_TOPIC], logical_id
        assert props["OKActions"] == [ALARM_TOPIC], logical_id
        # one occurrence is enough: >= 1 on a Sum, > 0 on a depth
        assert (props["ComparisonOperator"], props["Threshold"]) in {
            ("GreaterThanOrEqualToThreshold", 1),
            ("GreaterThanThreshold", 0),
        }, logical_id
        assert props["TreatMissingData"] == "notBreaching", logical_id
        assert props["AlarmName"]["Fn::Sub"].startswith("pumpd-onboarding-${Stage}-")


def test_api_alarm_dimensions_name_the_deployed_api(template: dict[str, Any]) -> None:
    api = template["Resources"]["Api"]["Properties"]
    assert API_STAGE[0]["Value"] == api["Name"]
    assert API_STAGE[1]["Value"] == api["StageName"]


def _dashboard_metrics(template: dict[str, Any]) -> list[list[Any]]:
    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    # ${X} -> <X>: what a substitution stands for, without resolving it
    document = json.loads(re.sub(r"\$\{([^}]+)\}", r"<\1>", body))
    return [
        metric
        for widget in document["widgets"]
        if widget["type"] == "metric"
        for metric in widget["properties"]["metrics"]
    ]


def _as_sub_marker(value: Any) -> str:
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return "<{}.{}>".format(*value["Fn::GetAtt"])
    return str(re.sub(r"\$\{([^}]+)\}", r"<\1>", value["Fn::Sub"]))


def test_dashboard_shows_every_alarmed_metric(template: dict[str, Any]) -> None:
    shown = {tuple(m) for m in _dashboard_metrics(template) if all(isinstance(p, str) for p in m)}
    for logical_id, (namespace, metric, dimensions, _) in (
        ALARMS | _function_alarms(template)
    ).items():
        row = [namespace, metric]
        for dimension in dimensions:
            row += [dimension["Name"], _as_sub_marker(dimension["Value"])]
        assert tuple(row) in shown, f"the dashboard does not show {logical_id}'s metric {row}"


def test_an_alarm_email_is_subscribed_to_the_topic_the_stack_creates(
    template: dict[str, Any],
) -> None:
    parameter = template["Parameters"]["AlarmEmail"]
    pattern = re.compile(parameter["AllowedPattern"])
    assert parameter["Default"] == "" and pattern.fullmatch("")
    assert pattern.fullmatch("ops@example.com")
    assert not pattern.fullmatch("ops at example") and not pattern.fullmatch("a@b@c.d")
    subscription = template["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "SubscribeAlarmEmail"
    assert template["Conditions"]["SubscribeAlarmEmail"] == {
        "Fn::And": [
            {"Condition": "CreateAlarmTopic"},
            {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]},
        ]
    }
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "AlarmTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }
