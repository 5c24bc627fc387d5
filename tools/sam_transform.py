"""`python tools/sam_transform.py TEMPLATE [Name=Value ...]`: the template after the SAM transform.

Prints, as JSON, what CloudFormation deploys: every function's and state machine's IAM role as
SAM generates it (inline statements, SAM policy templates expanded, managed policy ARNs). Run
with .tools-venv's interpreter: aws-sam-translator comes with the pinned aws-sam-cli there, and
its pins (pydantic, boto3) would conflict with the project's in .venv. Intrinsics are left as
they are (tests/privilege resolves them to the local runtime's names); local code paths become
S3 locations, as `sam package` makes them.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

LOCAL_PATHS = ("CodeUri", "ContentUri", "DefinitionUri")


class _NoManagedPolicyLookup:
    """The translator asks IAM for managed policy ARNs only for policies named without one."""

    def load(self) -> dict[str, str]:
        return {}


def packaged(template: dict[str, Any]) -> dict[str, Any]:
    for logical_id, resource in template.get("Resources", {}).items():
        properties = resource.get("Properties") or {}
        for key in LOCAL_PATHS:
            if isinstance(properties.get(key), str) and not properties[key].startswith("s3://"):
                properties[key] = f"s3://local-package/{logical_id}"
    return template


def main(argv: list[str]) -> int:
    path, *assignments = argv
    parameters = dict(a.split("=", 1) for a in assignments)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # the translator needs a region
    template = packaged(yaml_parse(Path(path).read_text(encoding="utf-8")))
    json.dump(transform(template, parameters, _NoManagedPolicyLookup()), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
