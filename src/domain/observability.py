"""One Logger, Tracer and Metrics for the whole service (Powertools reads its env lazily)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="pumpd-onboarding")
tracer = Tracer(service="pumpd-onboarding")
metrics = Metrics(namespace="PumpdOnboarding", service="pumpd-onboarding")
