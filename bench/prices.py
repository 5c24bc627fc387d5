"""Public on-demand list prices (us-east-1), kept in code with the date they were read.

They are AWS's public list prices as of PRICE_TABLE_DATE and may change: check the pages in
SOURCES before relying on a figure. Free tiers, Savings Plans and taxes are ignored.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

PRICE_TABLE_DATE = "2026-11-28"
PRICE_REGION = "us-east-1"

SOURCES = {
    "dynamodb": "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "stepfunctions": "https://aws.amazon.com/step-functions/pricing/",
    "lambda": "https://aws.amazon.com/lambda/pricing/",
    "s3": "https://aws.amazon.com/s3/pricing/",
    "secretsmanager": "https://aws.amazon.com/secrets-manager/pricing/",
    "kms": "https://aws.amazon.com/kms/pricing/",
}


@dataclass(frozen=True)
class Prices:
    # DynamoDB on-demand (Standard table class), since the November 2024 price change.
    dynamodb_per_million_wru: float = 0.625
    dynamodb_per_million_rru: float = 0.125
    dynamodb_per_gb_month: float = 0.25  # storage, beyond the first 25 GB free (ignored)
    # Step Functions Standard workflows.
    sfn_per_1000_transitions: float = 0.025
    # Lambda, x86_64.
    lambda_per_million_requests: float = 0.20
    lambda_per_gb_second: float = 0.0000166667
    # S3 Standard requests.
    s3_per_1000_put: float = 0.005
    s3_per_1000_get: float = 0.0004
    # Secrets Manager: the platform's API key (PlatformMode=http) is read from it. A secret per
    # job (how passwords were kept until KMS envelope encryption) was "prorated for secrets
    # stored less than a month": here every started hour it existed, the hour being our
    # assumption of the granularity; the findings compare with it.
    secrets_per_10000_api_calls: float = 0.05
    secrets_per_secret_month: float = 0.40
    hours_per_month: float = 730
    # KMS: the passwords' customer managed key, a fixed monthly fee for the stack (rotation on:
    # the first two rotations add $1 each, then no more), and its symmetric requests.
    kms_key_per_month: float = 1.00
    kms_per_10000_requests: float = 0.03

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "date": PRICE_TABLE_DATE,
            "region": PRICE_REGION,
            "note": (
                f"AWS public on-demand list prices ({PRICE_REGION}) as read on "
                f"{PRICE_TABLE_DATE}; they may change. Free tiers ignored."
            ),
            "sources": SOURCES,
        }


PRICES = Prices()
