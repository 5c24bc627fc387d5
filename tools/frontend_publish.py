"""Publish the operations page to the stack's own hosting (HostFrontend=true).

    python -m tools.frontend_publish [--config-env dev | --stack-name NAME] [--region R]

(`make frontend-publish ENV=dev`). Uploads every file of frontend/ to the FrontendBucketName
output's bucket, with config.js generated from the stack's outputs in memory (the working
tree's frontend/config.js, the local one, is neither read nor changed), deletes objects the
page no longer has, then invalidates `/*` on the FrontendDistributionId output's distribution.
The equivalent by hand: `make frontend-config`, `aws s3 sync frontend/ s3://<bucket>/ --delete`,
`aws cloudfront create-invalidation --distribution-id <id> --paths '/*'`.
"""

from __future__ import annotations

import mimetypes
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from tools.frontend_config import page_config, render
from tools.stack_outputs import REPO_ROOT, Stack, StackError, deployed, require, stack_command

FRONTEND = REPO_ROOT / "frontend"
HOSTING_OUTPUTS = ("FrontendBucketName", "FrontendDistributionId")
WHY_HOSTING = "the stack does not host the page (deploy it with HostFrontend=true)"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
# Browsers revalidate every file (the names are not versioned); CloudFront keeps them a day,
# and every publish invalidates its copies.
CACHE_CONTROL = "public, max-age=0, must-revalidate, s-maxage=86400"


@dataclass(frozen=True)
class Published:
    bucket: str
    uploaded: list[str]
    deleted: list[str]
    invalidation_id: str


def page_files(root: Path, config_js: str) -> dict[str, bytes]:
    """S3 key -> content: the page's files (no dotfiles), config.js replaced by `config_js`."""
    files = {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not any(p.startswith(".") for p in path.relative_to(root).parts)
    }
    if "index.html" not in files:
        raise StackError(f"{root} has no index.html")
    files["config.js"] = config_js.encode("utf-8")
    return files


def content_type(key: str) -> str:
    suffix = Path(key).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


def publish(
    outputs: Mapping[str, str], stack: Stack, root: Path, s3: Any, cloudfront: Any
) -> Published:
    require(outputs, HOSTING_OUTPUTS, stack, WHY_HOSTING)
    files = page_files(root, render(page_config(outputs, stack), stack))
    bucket = outputs["FrontendBucketName"]
    # index.html last: until it is replaced, the old page finds the files it refers to
    keys = sorted(files, key=lambda k: (k == "index.html", k))
    for key in keys:
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=files[key],
            ContentType=content_type(key),
            CacheControl=CACHE_CONTROL,
        )
    stale = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", [])
        if item["Key"] not in files
    ]
    for start in range(0, len(stale), 1000):
        chunk = [{"Key": key} for key in stale[start : start + 1000]]
        s3.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})
    invalidation = cloudfront.create_invalidation(
        DistributionId=outputs["FrontendDistributionId"],
        InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": ["/*"]},
            "CallerReference": f"frontend-publish-{time.time_ns()}",
        },
    )
    return Published(bucket, keys, stale, invalidation["Invalidation"]["Id"])


def main(argv: list[str] | None = None) -> int:
    parser = stack_command(
        "frontend_publish",
        "Upload the operations page to the stack's bucket and invalidate CloudFront.",
    )
    parser.add_argument("--root", type=Path, default=FRONTEND, help="default: frontend/")
    args = parser.parse_args(argv)
    try:
        stack, session, outputs = deployed(args)
        result = publish(
            outputs, stack, args.root, session.client("s3"), session.client("cloudfront")
        )
    except StackError as error:
        print(f"frontend-publish: {error}; nothing published", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as error:  # denied, throttled: publish again
        print(f"frontend-publish: {error}", file=sys.stderr)
        return 1
    print(
        f"frontend-publish: {len(result.uploaded)} files to s3://{result.bucket}/"
        f" ({len(result.deleted)} stale deleted), invalidation {result.invalidation_id};"
        f" the page: {outputs.get('FrontendUrl', '?')}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
