"""`make frontend-config` and `make frontend-publish` (tools/frontend_config.py,
tools/frontend_publish.py) against moto: a CloudFormation stack with the template's outputs.

The config file written is imported by node as the page imports it, and must equal the outputs;
a stack without an output the page needs makes the command fail with a message and write
nothing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from tools import frontend_config, frontend_publish
from tools.stack_outputs import REPO_ROOT, stack_of_environment

REGION = "us-east-1"
STACK = "pumpd-onboarding"  # samconfig.toml's dev environment
OUTPUTS = {
    "ApiUrl": "https://abc123.execute-api.us-east-1.amazonaws.com/dev",
    "UserPoolId": "us-east-1_AbCdEf123",
    "UserPoolClientId": "4example0client0id0000000",
    "HostedUiDomain": "pumpd-onboarding-dev-123456789012.auth.us-east-1.amazoncognito.com",
    "WebAppUrl": "https://d111111abcdef8.cloudfront.net/",
    "FrontendUrl": "https://d111111abcdef8.cloudfront.net/",
}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


def create_stack(outputs: dict[str, str], *, hosting: bool = False, name: str = STACK) -> None:
    """A stack with these literal outputs (and, hosting, a bucket and a distribution's id)."""
    template: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"DistributionId": {"Type": "String", "Default": "none"}},
        "Resources": {"FrontendBucket": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    parameters = []
    if hosting:
        template["Outputs"]["FrontendBucketName"] = {"Value": {"Ref": "FrontendBucket"}}
        template["Outputs"]["FrontendDistributionId"] = {"Value": {"Ref": "DistributionId"}}
        parameters = [{"ParameterKey": "DistributionId", "ParameterValue": create_distribution()}]
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName=name, TemplateBody=json.dumps(template), Parameters=parameters
    )


def create_distribution() -> str:
    distribution = boto3.client("cloudfront", region_name=REGION).create_distribution(
        DistributionConfig={
            "CallerReference": "test",
            "Comment": "",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "page",
                        "DomainName": "page.s3.us-east-1.amazonaws.com",
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "page",
                "ViewerProtocolPolicy": "redirect-to-https",
            },
        }
    )
    return str(distribution["Distribution"]["Id"])


def import_config(path: Path) -> dict[str, Any]:
    """The `config` the page gets from `import { config } from "../config.js"`."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node not found: `make setup` (npm ci) needs it", pytrace=False)
    script = (
        f"import({json.dumps(path.resolve().as_uri())})"
        ".then(m => process.stdout.write(JSON.stringify(m.config)))"
    )
    proc = subprocess.run(
        [node, "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    config: dict[str, Any] = json.loads(proc.stdout)
    return config


def structure(value: Any) -> Any:
    """Keys all the way down (values of leaves left out)."""
    if isinstance(value, dict):
        return {key: structure(item) for key, item in value.items()}
    return type(value).__name__


# ------------------------------------------------------------------- frontend-config


def test_the_config_written_matches_the_stack_outputs(aws: None, tmp_path: Path) -> None:
    create_stack(OUTPUTS)
    out = tmp_path / "config.js"

    assert frontend_config.main(["--config-env", "dev", "--out", str(out)]) == 0

    config = import_config(out)
    assert config["apiBaseUrl"] == OUTPUTS["ApiUrl"]
    assert config["cognito"] == {
        "userPoolId": OUTPUTS["UserPoolId"],
        "clientId": OUTPUTS["UserPoolClientId"],
        "domain": OUTPUTS["HostedUiDomain"],
        "redirectUri": OUTPUTS["WebAppUrl"],
        "scopes": ["openid", "email", "profile"],
    }
    # the same shape (and polling) as the checked-in, local config.js the page is written for
    local = import_config(REPO_ROOT / "frontend" / "config.js")
    assert structure(config) == structure(local)
    assert config["polling"] == local["polling"]
    assert config["cognito"]["scopes"] == local["cognito"]["scopes"]


def test_the_stack_is_found_by_name_and_region(aws: None, tmp_path: Path) -> None:
    create_stack(OUTPUTS, name="pumpd-onboarding-elsewhere")
    out = tmp_path / "config.js"
    args = ["--stack-name", "pumpd-onboarding-elsewhere", "--region", REGION, "--out", str(out)]

    assert frontend_config.main(args) == 0

    assert import_config(out)["apiBaseUrl"] == OUTPUTS["ApiUrl"]
    assert "pumpd-onboarding-elsewhere (us-east-1)" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("missing", ["ApiUrl", "UserPoolClientId", "HostedUiDomain"])
def test_a_missing_output_fails_clearly_and_writes_nothing(
    aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], missing: str
) -> None:
    create_stack({k: v for k, v in OUTPUTS.items() if k != missing})
    out = tmp_path / "config.js"
    out.write_text("// the file before\n", encoding="utf-8")

    assert frontend_config.main(["--config-env", "dev", "--out", str(out)]) == 1

    error = capsys.readouterr().err
    assert f"stack {STACK} has no output {missing}" in error
    assert "nothing written" in error
    assert out.read_text(encoding="utf-8") == "// the file before\n"
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left either


def test_a_stack_that_does_not_exist_fails_clearly(
    aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "config.js"

    assert frontend_config.main(["--stack-name", "no-such-stack", "--out", str(out)]) == 1

    assert "cannot describe stack no-such-stack" in capsys.readouterr().err
    assert not out.exists()


def test_config_environments_name_the_samconfig_stacks() -> None:
    assert stack_of_environment("dev").name == STACK
    assert stack_of_environment("prod").name == "pumpd-onboarding-prod"
    assert stack_of_environment("prod").region == REGION


# ------------------------------------------------------------------- frontend-publish


def test_publish_uploads_the_page_with_the_stacks_config_and_invalidates(
    aws: None, tmp_path: Path
) -> None:
    create_stack(OUTPUTS, hosting=True)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in _stack()["Outputs"]}
    s3 = boto3.client("s3", region_name=REGION)
    bucket = outputs["FrontendBucketName"]
    s3.put_object(Bucket=bucket, Key="js/removed.js", Body=b"old")
    local_config = (REPO_ROOT / "frontend" / "config.js").read_text(encoding="utf-8")

    assert frontend_publish.main(["--config-env", "dev"]) == 0

    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    page = {
        p.relative_to(REPO_ROOT / "frontend").as_posix()
        for p in (REPO_ROOT / "frontend").rglob("*")
        if p.is_file()
    }
    assert keys == page  # every file of the page, the stale one deleted
    index = s3.get_object(Bucket=bucket, Key="index.html")
    assert index["ContentType"] == "text/html; charset=utf-8"
    assert "max-age=0" in index["CacheControl"]
    module = s3.get_object(Bucket=bucket, Key="js/main.js")
    assert module["ContentType"].startswith("text/javascript")  # ES modules need a JS type
    uploaded = tmp_path / "config.js"
    uploaded.write_bytes(s3.get_object(Bucket=bucket, Key="config.js")["Body"].read())
    assert import_config(uploaded)["apiBaseUrl"] == OUTPUTS["ApiUrl"]
    # the working tree's (local) config.js is untouched
    assert (REPO_ROOT / "frontend" / "config.js").read_text(encoding="utf-8") == local_config
    invalidations = boto3.client("cloudfront", region_name=REGION).list_invalidations(
        DistributionId=outputs["FrontendDistributionId"]
    )
    assert invalidations["InvalidationList"]["Quantity"] == 1


def test_publish_without_hosting_fails_clearly(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    create_stack(OUTPUTS)  # HostFrontend=false: no bucket or distribution outputs

    assert frontend_publish.main(["--config-env", "dev"]) == 1

    error = capsys.readouterr().err
    assert "has no output FrontendBucketName, FrontendDistributionId" in error
    assert "HostFrontend=true" in error
    assert "nothing published" in error


def _stack() -> dict[str, Any]:
    (stack,) = boto3.client("cloudformation", region_name=REGION).describe_stacks(StackName=STACK)[
        "Stacks"
    ]
    return stack
