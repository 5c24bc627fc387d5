"""template.yaml keeps the shape the design, the local runtime and the frontend rely on."""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

import pytest
from packaging.requirements import Requirement
from tools.cfn_template import REPO_ROOT, functions, resources_of_type

from handlers.api import openapi_document
from state.repository import LISTED
from tests.contract.conftest import makefile_list


def _is_literal(value: Any) -> bool:
    """No intrinsic functions anywhere inside (the local runtime reads these as is)."""
    if isinstance(value, dict):
        return not any(k == "Ref" or k.startswith("Fn::") for k in value) and all(
            _is_literal(v) for v in value.values()
        )
    if isinstance(value, list):
        return all(_is_literal(v) for v in value)
    return True


def test_every_function_is_built_and_has_a_caller(template: dict[str, Any]) -> None:
    found = functions(template)
    assert set(makefile_list("FUNCTIONS")) == set(found), "sam-build/Makefile's FUNCTIONS"
    handlers = [r["Properties"]["Handler"] for r in found.values()]
    assert len(set(handlers)) == len(handlers), f"two functions share a handler: {handlers}"
    # every function is invoked: a task of a state machine, an event source of its own, or
    # its function URL, which the functions given its URL call
    tasks = {
        value["Fn::GetAtt"][0]
        for machine in resources_of_type(template, "AWS::Serverless::StateMachine").values()
        for value in machine["Properties"].get("DefinitionSubstitutions", {}).values()
        if isinstance(value, dict) and "Fn::GetAtt" in value
    }
    environments = json.dumps([r["Properties"].get("Environment", {}) for r in found.values()])
    for logical_id, resource in found.items():
        url = f'"{logical_id}Url", "FunctionUrl"'  # !GetAtt <Function>Url.FunctionUrl
        by_url = "FunctionUrlConfig" in resource["Properties"] and url in environments
        assert logical_id in tasks or resource["Properties"].get("Events") or by_url, (
            f"{logical_id} is invoked by nothing"
        )


def test_functions_are_built_by_the_makefile_from_src(template: dict[str, Any]) -> None:
    makefile = (REPO_ROOT / "sam-build" / "Makefile").read_text(encoding="utf-8")
    for logical_id, resource in functions(template).items():
        assert resource["Properties"]["CodeUri"] == "src/"
        assert resource["Metadata"]["BuildMethod"] == "makefile"
        assert (REPO_ROOT / resource["Metadata"]["ContextPath"] / "Makefile").is_file()
        assert logical_id in makefile, f"sam-build/Makefile has no build-{logical_id} target"
    layer = template["Resources"]["DependenciesLayer"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]


def test_globals(template: dict[str, Any]) -> None:
    glob = template["Globals"]["Function"]
    assert glob["Runtime"] == "python3.12"
    assert glob["Architectures"] == ["x86_64"]
    assert glob["Tracing"] == "Active"
    assert glob["Layers"] == [{"Ref": "DependenciesLayer"}]
    env = glob["Environment"]["Variables"]
    assert env["POWERTOOLS_SERVICE_NAME"] == "pumpd-onboarding"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "PumpdOnboarding"
    assert env["TABLE_NAME"] == {"Ref": "JobsTable"}
    assert env["BUCKET_NAME"] == {"Ref": "ArtifactsBucket"}
    assert env["PASSWORD_KEY_ID"] == {"Fn::GetAtt": ["PasswordKey", "Arn"]}
    assert "POWERTOOLS_LOG_LEVEL" in env
    # Only the phases call the platform (and the sandbox must not name its own URL: a cycle).
    assert not {"PLATFORM_MODE", "PLATFORM_BASE_URL"} & set(env)
    api_env = template["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"]
    assert api_env["STATE_MACHINE_ARN"] == {"Ref": "Step6StateMachine"}


def test_jobs_table_is_literal_and_matches_the_access_patterns(template: dict[str, Any]) -> None:
    props = template["Resources"]["JobsTable"]["Properties"]
    for key in ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes", "BillingMode"):
        assert _is_literal(props[key]), f"JobsTable.{key} must stay literal"
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    listing, failures = props["GlobalSecondaryIndexes"]
    # Both project only what the lists read (state.repository.LISTED), never ALL: a checkpoint
    # then writes no index
    for gsi, name, prefix in ((listing, "listing", "l"), (failures, "failures", "f")):
        assert gsi["IndexName"] == name
        assert gsi["KeySchema"] == [
            {"AttributeName": f"{prefix}pk", "KeyType": "HASH"},
            {"AttributeName": f"{prefix}sk", "KeyType": "RANGE"},
        ]
        assert gsi["Projection"] == {
            "ProjectionType": "INCLUDE",
            "NonKeyAttributes": list(LISTED),
        }
    types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    assert types == {"pk": "S", "sk": "S", "lpk": "S", "lsk": "S", "fpk": "S", "fsk": "S"}
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True


def test_state_machine(template: dict[str, Any]) -> None:
    machines = resources_of_type(template, "AWS::Serverless::StateMachine")
    assert sorted(machines) == [
        "BulkOperationStateMachine",
        "JobPipelineStateMachine",
        "Step6StateMachine",
    ]
    files = {
        "Step6StateMachine": "statemachine/step6.asl.json",
        "BulkOperationStateMachine": "statemachine/bulk_operation.asl.json",
        "JobPipelineStateMachine": "statemachine/job_pipeline.asl.json",
    }
    for logical_id in machines:
        props = template["Resources"][logical_id]["Properties"]
        assert props["Type"] == "STANDARD"
        assert props["DefinitionUri"] == files[logical_id]
        assert props["Tracing"] == {"Enabled": True}
        assert props["Logging"]["Level"] == "ERROR"
        assert props["Logging"]["IncludeExecutionData"] is False


def test_api_routes_and_auth(template: dict[str, Any]) -> None:
    events = template["Resources"]["ApiFunction"]["Properties"]["Events"]
    routes = set()
    for event in events.values():
        assert event["Type"] == "Api"
        assert event["Properties"]["RestApiId"] == {"Ref": "Api"}
        routes.add((event["Properties"]["Method"].upper(), event["Properties"]["Path"]))
    # exactly the routes the API's resolver declares (the OpenAPI document generated from it)
    document = json.loads(openapi_document())
    assert routes == {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    api = template["Resources"]["Api"]["Properties"]
    assert api["StageName"] == {"Ref": "Stage"}
    assert api["Auth"]["DefaultAuthorizer"] == "CognitoAuthorizer"
    assert "Cors" in api


def test_user_pool_client_cannot_write_org_id(template: dict[str, Any]) -> None:
    pool = template["Resources"]["UserPool"]
    assert pool["Condition"] == "CreateUserPool"
    assert any(a["Name"] == "org_id" for a in pool["Properties"]["Schema"])
    client = template["Resources"]["UserPoolClient"]["Properties"]
    assert "custom:org_id" in client["ReadAttributes"]
    assert "custom:org_id" not in client["WriteAttributes"]


def test_reconciler_hears_every_step_6_end_and_a_steps_1_to_4_run_that_did_not_succeed(
    template: dict[str, Any],
) -> None:
    events = template["Resources"]["ReconcileFunction"]["Properties"]["Events"]
    assert {e["Type"] for e in events.values()} == {"EventBridgeRule"}
    patterns = {name: event["Properties"]["Pattern"] for name, event in events.items()}
    for pattern in patterns.values():
        assert pattern["source"] == ["aws.states"]
        assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
    step6 = patterns["Step6ExecutionEnded"]["detail"]
    assert set(step6["status"]) == {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
    assert step6["stateMachineArn"] == [{"Ref": "Step6StateMachine"}]
    # a succeeded JobPipeline run recorded each of its steps itself: no invocation for it
    pipeline = patterns["JobPipelineExecutionEnded"]["detail"]
    assert set(pipeline["status"]) == {"FAILED", "TIMED_OUT", "ABORTED"}
    assert pipeline["stateMachineArn"] == [{"Ref": "JobPipelineStateMachine"}]
    # and the handler tells the two apart by the machine's ARN
    variables = template["Resources"]["ReconcileFunction"]["Properties"]["Environment"]
    assert variables["Variables"]["JOB_PIPELINE_STATE_MACHINE_ARN"] == {
        "Ref": "JobPipelineStateMachine"
    }


def test_outputs(template: dict[str, Any]) -> None:
    assert {"ApiUrl", "StateMachineArn", "TableName", "BucketName", "UserPoolId"} <= set(
        template["Outputs"]
    )


@pytest.fixture(scope="module")
def layer_pins() -> dict[str, str]:
    pins = {}
    text = (REPO_ROOT / "sam-build" / "requirements.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", f"layer requirement not pinned exactly: {line}"
            pins[_canonical(req.name)] = spec.version
    return pins


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_layer_pins_satisfy_pyproject(layer_pins: dict[str, str]) -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for dependency in pyproject["project"]["dependencies"]:
        req = Requirement(dependency)
        name = _canonical(req.name)
        if name == "boto3":
            assert name not in layer_pins, "boto3 comes with the Lambda runtime"
            continue
        assert name in layer_pins, f"{name} is a project dependency but not in the layer"
        assert req.specifier.contains(layer_pins[name]), (
            f"layer pins {name}=={layer_pins[name]}, pyproject asks {req.specifier}"
        )
    for runtime_provided in ("boto3", "botocore", "s3transfer", "urllib3", "python-dateutil"):
        assert runtime_provided not in layer_pins


PHASES = ("Phase1Function", "Phase2Function", "Phase3Function", "Phase4Function")


@pytest.mark.parametrize("logical_id", PHASES)
def test_a_phase_reaches_the_platform_the_mode_names(
    template: dict[str, Any], logical_id: str
) -> None:
    # The sandbox's URL in sandbox mode, the real platform's URL and key in http mode.
    props = template["Resources"][logical_id]["Properties"]
    env = props["Environment"]["Variables"]
    assert env["PLATFORM_MODE"] == {"Ref": "PlatformMode"}
    assert env["PLATFORM_BASE_URL"] == {
        "Fn::If": [
            "UseSandbox",
            {"Fn::GetAtt": ["PlatformSandboxFunctionUrl", "FunctionUrl"]},
            {"Ref": "PlatformBaseUrl"},
        ]
    }
    assert env["PLATFORM_API_KEY_SECRET_ARN"] == {"Ref": "PlatformApiKeySecretArn"}
    conditional = {
        s["Fn::If"][0]: s["Fn::If"][1]
        for s in props["Policies"][0]["Statement"]
        if isinstance(s, dict) and "Fn::If" in s
    }
    sandbox, key = conditional["UseSandbox"], conditional["UseRealPlatform"]
    assert set(sandbox["Action"]) == {"lambda:InvokeFunctionUrl", "lambda:InvokeFunction"}
    assert sandbox["Resource"] == {"Fn::GetAtt": ["PlatformSandboxFunction", "Arn"]}
    assert (key["Action"], key["Resource"]) == (
        "secretsmanager:GetSecretValue",
        {"Ref": "PlatformApiKeySecretArn"},
    )


def test_the_sandbox_is_the_default_and_the_simulator_cannot_be_chosen(
    template: dict[str, Any],
) -> None:
    mode = template["Parameters"]["PlatformMode"]
    assert (mode["Default"], mode["AllowedValues"]) == ("sandbox", ["sandbox", "http"])
    sandbox = template["Resources"]["PlatformSandboxFunction"]
    assert sandbox["Condition"] == "UseSandbox"
    assert sandbox["Properties"]["FunctionUrlConfig"] == {"AuthType": "AWS_IAM"}
    assert template["Resources"]["PlatformSandboxTable"]["Condition"] == "UseSandbox"
    # http without its URL or key is refused at deploy time, not at the first job.
    rule = template["Rules"]["RealPlatformNeedsUrlAndKey"]
    asserted = json.dumps(rule["Assertions"])
    assert "PlatformBaseUrl" in asserted and "PlatformApiKeySecretArn" in asserted


def _references(value: Any, resources: set[str]) -> set[str]:
    """The resources a template value names (Ref, Fn::GetAtt, ${...} in Fn::Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and inner in resources:
                found.add(inner)
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) else str(inner).split(".")[0]
                found.add(target)
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                names = {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", str(text))}
                found |= names & resources
                if isinstance(inner, list):
                    found |= _references(inner[1], resources)
            else:
                found |= _references(inner, resources)
    elif isinstance(value, list):
        for inner in value:
            found |= _references(inner, resources)
    return found & resources


def test_no_resource_depends_on_itself_through_others(template: dict[str, Any]) -> None:
    # CloudFormation refuses a stack whose references form a cycle ("Circular dependency"),
    # which neither sam validate nor sam build reports
    resources = template["Resources"]
    names = set(resources)
    edges = {
        name: _references(body, names)
        | set(
            [body["DependsOn"]]
            if isinstance(body.get("DependsOn"), str)
            else body.get("DependsOn", [])
        )
        for name, body in resources.items()
    }

    done: set[str] = set()

    def cycle_through(node: str, path: list[str]) -> list[str] | None:
        """A cycle reachable from `node` (depth first; `path` is the way here)."""
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for nxt in sorted(edges[node]):
            found = cycle_through(nxt, [*path, node])
            if found:
                return found
        done.add(node)
        return None

    cycles = [c for c in (cycle_through(n, []) for n in sorted(names)) if c]
    assert not cycles, "circular dependency: " + " -> ".join(cycles[0])
