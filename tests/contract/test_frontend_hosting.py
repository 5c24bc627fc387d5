"""Optional hosting of the operations page (HostFrontend): off by default; on, a private bucket
read by CloudFront through origin access control only, HTTPS only, security headers, and the
distribution's URL as the Cognito callback and the API's CORS origin, without a cycle."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from tools.cfn_template import REPO_ROOT
from tools.frontend_config import REQUIRED_OUTPUTS
from tools.frontend_publish import HOSTING_OUTPUTS

CONDITION = "CreateFrontendHosting"
HOSTING = {
    "FrontendBucket": "AWS::S3::Bucket",
    "FrontendBucketPolicy": "AWS::S3::BucketPolicy",
    "FrontendOriginAccessControl": "AWS::CloudFront::OriginAccessControl",
    "FrontendResponseHeadersPolicy": "AWS::CloudFront::ResponseHeadersPolicy",
    "FrontendDistribution": "AWS::CloudFront::Distribution",
}
DISTRIBUTION_ORIGIN = "https://${FrontendDistribution.DomainName}"
SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


def references(value: Any) -> set[str]:
    """Logical ids and parameters a value refers to (Ref, GetAtt, names in Sub strings)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref":
                found.add(item)
            elif key == "Fn::GetAtt":
                found.add(item[0] if isinstance(item, list) else item.split(".")[0])
            elif key == "Fn::Sub":
                text, variables = (item, {}) if isinstance(item, str) else item
                found |= set(SUB_NAME.findall(text)) - set(variables)
                found |= references(variables)
            else:
                found |= references(item)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    return {name for name in found if not name.startswith("AWS::")}


def resolve(value: Any, hosting: bool) -> Any:
    """The value with every Fn::If on the hosting condition decided."""
    if isinstance(value, dict):
        if set(value) == {"Fn::If"} and value["Fn::If"][0] == CONDITION:
            return resolve(value["Fn::If"][1 if hosting else 2], hosting)
        return {key: resolve(item, hosting) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, hosting) for item in value]
    return value


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}[{index}]")


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = template["Resources"]
    return found


def test_hosting_is_off_by_default(template: dict[str, Any], resources: dict[str, Any]) -> None:
    parameter = template["Parameters"]["HostFrontend"]
    assert parameter["Default"] == "false"
    assert set(parameter["AllowedValues"]) == {"true", "false"}
    assert template["Conditions"][CONDITION] == {"Fn::Equals": [{"Ref": "HostFrontend"}, "true"]}
    for logical_id, kind in HOSTING.items():
        assert resources[logical_id]["Type"] == kind
        assert resources[logical_id]["Condition"] == CONDITION, f"{logical_id} is always created"
    # nothing else depends on the condition's resources unless it is conditional itself or
    # chooses them with Fn::If (checked below)
    for logical_id, resource in resources.items():
        if resource.get("Condition") != CONDITION:
            assert not references(resolve(resource, hosting=False)) & set(HOSTING), logical_id


def test_the_bucket_is_private(resources: dict[str, Any]) -> None:
    bucket = resources["FrontendBucket"]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert "WebsiteConfiguration" not in bucket  # no public website endpoint
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    policy = resources["FrontendBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "FrontendBucket"}
    statements = policy["PolicyDocument"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    # the only reader: CloudFront, for this distribution only, objects only, read only
    assert allows == [
        {
            "Sid": "CloudFrontReadsThroughOriginAccessControl",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": {"Fn::Sub": "${FrontendBucket.Arn}/*"},
            "Condition": {
                "StringEquals": {
                    "AWS:SourceArn": {
                        "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}"
                        ":distribution/${FrontendDistribution}"
                    }
                }
            },
        }
    ]
    (tls,) = [s for s in statements if s["Effect"] == "Deny"]
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_cloudfront_reads_the_bucket_through_origin_access_control(
    resources: dict[str, Any],
) -> None:
    control = resources["FrontendOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert control["OriginAccessControlOriginType"] == "s3"
    assert control["SigningBehavior"] == "always"
    assert control["SigningProtocol"] == "sigv4"
    config = resources["FrontendDistribution"]["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": ["FrontendBucket", "RegionalDomainName"]}
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["FrontendOriginAccessControl", "Id"]}
    # an origin access identity (the legacy mechanism) is not used besides
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}


def test_the_distribution_serves_the_page_over_https_only(resources: dict[str, Any]) -> None:
    config = resources["FrontendDistribution"]["Properties"]["DistributionConfig"]
    assert config["Enabled"] is True
    assert config["DefaultRootObject"] == "index.html"
    behaviours = [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]
    for behaviour in behaviours:
        assert behaviour["ViewerProtocolPolicy"] in {"redirect-to-https", "https-only"}
        assert set(behaviour["AllowedMethods"]) == {"GET", "HEAD"}  # static files, no writes
        assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "FrontendResponseHeadersPolicy"}


def test_security_headers(resources: dict[str, Any]) -> None:
    config = resources["FrontendResponseHeadersPolicy"]["Properties"]["ResponseHeadersPolicyConfig"]
    headers = config["SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["ContentTypeOptions"]["Override"] is True
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives["default-src"] == ["'none'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    # fetch() reaches the API (output ApiUrl) and the Hosted UI's token endpoint
    # (output HostedUiDomain), named by wildcard: naming them would make a cycle
    assert "https://*.execute-api.${AWS::Region}.${AWS::URLSuffix}" in directives["connect-src"]
    assert "https://*.auth.${AWS::Region}.amazoncognito.com" in directives["connect-src"]


def test_the_page_needs_no_inline_script_or_style() -> None:
    """What the CSP (script-src/style-src 'self') requires of frontend/."""
    html = (REPO_ROOT / "frontend" / "index.html").read_text(encoding="utf-8")
    for script in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in script, f"inline script: {script}"
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers


def test_the_distribution_depends_on_nothing_that_depends_on_it(
    resources: dict[str, Any],
) -> None:
    """No cycle: what the distribution needs, transitively, is only the hosting resources."""
    needed: set[str] = set()
    todo = ["FrontendDistribution"]
    while todo:
        logical_id = todo.pop()
        for name in references(resources[logical_id]) & set(resources):
            if name not in needed:
                needed.add(name)
                todo.append(name)
    assert needed <= set(HOSTING), needed - set(HOSTING)


@pytest.mark.parametrize("parameter", ["CorsAllowOrigin", "WebAppUrl"])
def test_with_hosting_the_distribution_replaces_the_pages_url(
    resources: dict[str, Any], parameter: str
) -> None:
    """Wherever the template uses CorsAllowOrigin or WebAppUrl, hosting on uses the
    distribution's origin instead (CORS of the API and its gateway responses, the API
    function's CORS_ALLOW_ORIGIN, the app client's callback and sign-out URLs)."""
    uses = [
        (logical_id, path)
        for logical_id, resource in resources.items()
        for path, value in walk(resource)
        if isinstance(value, dict) and parameter in references(value) and _is_leaf(value)
    ]
    assert uses, f"{parameter} is not used"
    for logical_id, _ in uses:
        resource = resources[logical_id]
        on, off = resolve(resource, hosting=True), resolve(resource, hosting=False)
        assert parameter not in references(on), f"{logical_id} ignores hosting"
        assert parameter in references(off)
        assert "FrontendDistribution" in references(on)
        assert "FrontendDistribution" not in references(off)
    on_values = {
        str(value)
        for logical_id, _ in uses
        for _, value in walk(resolve(resources[logical_id], hosting=True))
        if isinstance(value, dict) and "Fn::Sub" in value and "FrontendDistribution" in str(value)
    }
    # the origin (CORS), quoted for API Gateway's header mappings, or the page's URL (Cognito)
    assert on_values <= {
        str({"Fn::Sub": DISTRIBUTION_ORIGIN}),
        str({"Fn::Sub": f"'{DISTRIBUTION_ORIGIN}'"}),
        str({"Fn::Sub": f"{DISTRIBUTION_ORIGIN}/"}),
    }


def _is_leaf(value: dict[str, Any]) -> bool:
    """A Ref or Fn::Sub itself (not a mapping that contains one)."""
    return set(value) <= {"Ref", "Fn::Sub"}


def test_outputs(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    for name in ("FrontendUrl", "FrontendBucketName", "FrontendDistributionId"):
        assert outputs[name]["Condition"] == CONDITION
    assert outputs["FrontendUrl"]["Value"] == {"Fn::Sub": f"{DISTRIBUTION_ORIGIN}/"}
    # config.js's redirectUri: exactly the callback URL the app client accepts
    client = template["Resources"]["UserPoolClient"]["Properties"]
    assert outputs["WebAppUrl"]["Value"] == client["CallbackURLs"][0]
    assert "Condition" not in outputs["WebAppUrl"]
    # every output make frontend-config and make frontend-publish read is declared
    assert set(REQUIRED_OUTPUTS) | set(HOSTING_OUTPUTS) <= set(outputs)
