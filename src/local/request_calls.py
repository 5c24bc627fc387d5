"""The IAM authorisations an AWS API request needs, read from the request as it reaches moto.

Who: the access key of the SigV4 credential (local.calls). What: the IAM action, which is the
API operation's name in the signing service's namespace, except where IAM authorises an
operation otherwise (a DynamoDB transaction item by item, S3's REST verbs). On what: the ARN
the request names (table or index, object, secret, state machine or execution), "*" for an
operation on no resource. A request this module cannot map yields the action `<service>:?`,
which no policy grants: the privilege test then names it, rather than passing it by.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
# AWS appends six random characters to a secret's name in its ARN; any six stand in here.
SECRET_ARN_SUFFIX = "-AbCdEf"
# TransactWriteItems / TransactGetItems: each item is authorised as its own action.
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}

# ListObjects(V2) and HeadBucket are authorised as ListBucket.
_LIST_OBJECTS_PARAMS = frozenset(
    {"list-type", "prefix", "delimiter", "max-keys", "continuation-token", "start-after"}
    | {"encoding-type", "marker", "fetch-owner"}
)
_BUCKET_VERBS = {"PUT": "CreateBucket", "DELETE": "DeleteBucket"}

Authorisation = tuple[str, str]  # (IAM action, resource ARN)


@dataclass(frozen=True)
class Signature:
    access_key: str
    region: str
    service: str  # the signing name: IAM's service prefix (dynamodb, s3, states, ...)


def signature(environ: dict[str, Any]) -> Signature | None:
    found = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    return Signature(*found.groups()) if found else None


def needs_body(environ: dict[str, Any]) -> bool:
    """JSON and query protocols name the operation and resource in the body; S3 in the URL."""
    return "HTTP_X_AMZ_TARGET" in environ or environ.get("CONTENT_TYPE", "").startswith(
        "application/x-www-form-urlencoded"
    )


# Task token → the state machine whose Task handed it out (the runtime notes each one as it
# hands it to a Lambda): answering a token is authorised against that state machine.
TASK_TOKEN_OWNERS: dict[str, str] = {}
# A KMS key's ARN as moto made it → the template's logical id (the runtime notes each key it
# creates): a call on the key is authorised against the template's `!GetAtt <id>.Arn`.
KEY_LOGICAL_IDS: dict[str, str] = {}


def authorisations(
    environ: dict[str, Any], body: bytes, signed: Signature, account: str
) -> list[Authorisation]:
    service, region = signed.service, signed.region
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        operation = target.rsplit(".", 1)[-1]
        params = json.loads(body or b"{}")
        return _json_calls(service, operation, params, region, account)
    method = environ.get("REQUEST_METHOD", "GET")
    # WSGI hands the path over as latin-1; S3 keys are UTF-8.
    path = environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8", "replace")
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if service == "s3":
        return _s3_calls(method, path, query, environ)
    form = parse_qs(body.decode("utf-8", "replace")) if body else {}
    if "Action" in form:
        return [(f"{service}:{form['Action'][0]}", "*")]
    return [(f"{service}:?", f"{method} {path}")]


def _json_calls(
    service: str, operation: str, params: dict[str, Any], region: str, account: str
) -> list[Authorisation]:
    if service == "dynamodb":
        return _dynamodb_calls(operation, params, region, account)
    action = f"{service}:{operation}"
    if service == "secretsmanager":
        name = params.get("SecretId") or params.get("Name")
        if not isinstance(name, str):
            return [(action, "*")]
        if name.startswith("arn:"):
            # A secret's ARN as the service made it (its own six characters): the stand-in's.
            return [(action, name[: -len(SECRET_ARN_SUFFIX)] + SECRET_ARN_SUFFIX)]
        return [
            (action, f"arn:aws:secretsmanager:{region}:{account}:secret:{name}{SECRET_ARN_SUFFIX}")
        ]
    if service == "kms":
        key = params.get("KeyId")
        logical_id = KEY_LOGICAL_IDS.get(key) if isinstance(key, str) else None
        return [(action, f"arn:aws:kms:{region}:{account}:key/{logical_id}" if logical_id else "*")]
    if service == "states":
        token = params.get("taskToken")
        if isinstance(token, str):
            return [(action, TASK_TOKEN_OWNERS.get(token, "*"))]
        arn = params.get("executionArn") or params.get("stateMachineArn")
        return [(action, arn if isinstance(arn, str) else "*")]
    return [(action, "*")]


def _table_arn(table: str, region: str, account: str) -> str:
    return (
        table if table.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{table}"
    )


def _dynamodb_calls(
    operation: str, params: dict[str, Any], region: str, account: str
) -> list[Authorisation]:
    if operation in ("TransactWriteItems", "TransactGetItems"):
        calls = []
        for item in params.get("TransactItems", []):
            ((kind, detail),) = item.items()
            calls.append(
                (
                    f"dynamodb:{_TRANSACT_ACTIONS[kind]}",
                    _table_arn(detail["TableName"], region, account),
                )
            )
        return calls
    action = f"dynamodb:{operation}"
    if operation in ("BatchWriteItem", "BatchGetItem"):
        return [(action, _table_arn(t, region, account)) for t in params.get("RequestItems", {})]
    table = params.get("TableName")
    if not isinstance(table, str):
        return [(action, "*")]
    arn = _table_arn(table, region, account)
    index = params.get("IndexName")
    return [(action, f"{arn}/index/{index}" if isinstance(index, str) else arn)]


def _s3_calls(
    method: str, path: str, query: dict[str, list[str]], environ: dict[str, Any]
) -> list[Authorisation]:
    """Path-style requests (a local endpoint is an IP address: no virtual-host buckets)."""
    bucket, _, key = path.lstrip("/").partition("/")
    if not bucket:
        return [("s3:ListAllMyBuckets", "*")]
    if key:
        return _s3_object_calls(method, bucket, key, query, environ)
    arn = f"arn:aws:s3:::{bucket}"
    if method in ("GET", "HEAD") and set(query) <= _LIST_OBJECTS_PARAMS:
        return [("s3:ListBucket", arn)]
    if method in _BUCKET_VERBS and not query:
        return [(f"s3:{_BUCKET_VERBS[method]}", arn)]
    if method == "GET" and "versions" in query:
        return [("s3:ListBucketVersions", arn)]
    return [("s3:?", f"{method} {path}?{'&'.join(sorted(query))}")]


def _s3_object_calls(
    method: str, bucket: str, key: str, query: dict[str, list[str]], environ: dict[str, Any]
) -> list[Authorisation]:
    arn = f"arn:aws:s3:::{bucket}/{key}"
    if "uploads" in query or "uploadId" in query:
        # multipart upload: each part is authorised as PutObject, an abort as its own action
        if method == "DELETE":
            return [("s3:AbortMultipartUpload", arn)]
        return [("s3:PutObject", arn)]
    version = "Version" if "versionId" in query else ""
    if method in ("GET", "HEAD") and set(query) <= {"versionId", "partNumber"}:
        return [(f"s3:GetObject{version}", arn)]
    if method == "DELETE" and set(query) <= {"versionId"}:
        return [(f"s3:DeleteObject{version}", arn)]
    if method == "PUT" and not query:
        calls = [("s3:PutObject", arn)]
        source = environ.get("HTTP_X_AMZ_COPY_SOURCE")
        if source:  # CopyObject also reads its source
            calls.append(("s3:GetObject", f"arn:aws:s3:::{source.lstrip('/').split('?')[0]}"))
        return calls
    return [("s3:?", f"{method} /{bucket}/{key}?{'&'.join(sorted(query))}")]
