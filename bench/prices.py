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
}


@dataclass(frozen=True)
class Prices:
    # DynamoDB on-demand (Standard table class), since the November 2024 price change.
    dynamodb_per_million_wru: float = 0.625
    dynamodb_per_million_rru: float = 0.125
    # Step Functions Standard workflows.
    sfn_per_1000_transitions: float = 0.025
    # Lambda, x86_64.
    lambda_per_million_requests: float = 0.20
    lambda_per_gb_second: float = 0.0000166667
    # S3 Standard requests.
    s3_per_1000_put: float = 0.005
    s3_per_1000_get: float = 0.0004
    # Secrets Manager. A secret is "prorated for secrets stored less than a month" (the pricing
    # page); a deleted one is charged here for every started hour it existed (the hour is our
    # assumption of the granularity); one scheduled for deletion is not charged ("There is no
    # charge for secrets that you have marked for deletion", Secrets Manager User Guide).
    secrets_per_10000_api_calls: float = 0.05
    secrets_per_secret_month: float = 0.40
    hours_per_month: float = 730

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
