"""Configuration from environment variables, parsed once per process, on first use."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    table_name: str = Field(description="The single DynamoDB table (TABLE_NAME)")
    bucket_name: str = Field(description="S3 bucket for generated files (BUCKET_NAME)")
    state_machine_arn: str = Field(default="", description="Step6 state machine (API only)")
    bulk_operation_state_machine_arn: str = Field(
        default="", description="BulkOperation state machine (API only)"
    )
    job_pipeline_state_machine_arn: str = Field(
        default="", description="JobPipeline state machine, Steps 1-4 (API, Reconcile)"
    )
    # The KMS key that encrypts account passwords (clients.secrets): its ARN.
    password_key_id: str = Field(default="", description="PasswordKey (PASSWORD_KEY_ID)")
    # A bulk operation's item asks again for its run's outcome after this long without one.
    operation_answer_timeout_s: int = Field(default=900, ge=10, le=86_400)
    # sandbox: the stack's platform stand-in (SigV4 to its function URL); http: the real
    # platform (its API key in Secrets Manager); simulator: in this process (local tests only).
    platform_mode: Literal["sandbox", "http", "simulator"] = "sandbox"
    platform_base_url: str = ""
    platform_api_key_secret_arn: str = ""
    sandbox_table_name: str = Field(default="", description="The sandbox's own table")
    platform_timeout_s: float = 10.0
    substep_max_attempts: int = Field(default=3, ge=1, le=10)
    substep_retry_base_s: float = Field(default=0.2, ge=0)
    # Steps 1-4 (docs/architecture.md §14). The website fetcher refuses private addresses
    # unless SITE_ALLOW_PRIVATE (the local runtime's sample sites are on 127.0.0.1).
    site_timeout_s: float = Field(default=10.0, gt=0, le=60)
    site_max_bytes: int = Field(default=2_000_000, ge=10_000, le=20_000_000)
    site_allow_private: bool = False
    phone_region: str = Field(default="NZ", min_length=2, max_length=2)
    # sandbox: the register simulator's fixed data, in each process (stateless); http: a
    # register service (REGISTER_BASE_URL, its key in Secrets Manager), the local runtime's.
    register_mode: Literal["sandbox", "http"] = "sandbox"
    register_base_url: str = ""
    register_api_key_secret_arn: str = ""
    register_timeout_s: float = Field(default=10.0, gt=0, le=60)
    dynamodb_endpoint_url: str | None = None
    aws_region: str = Field(default="us-east-1", alias="AWS_DEFAULT_REGION")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()  # filled from the environment
