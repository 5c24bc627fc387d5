"""Builds the dependencies a handler needs from Settings, once per process, on first use.

Nothing is built at import: each builder imports its client module and creates its boto3
client or resource the first time a handler asks for it, then the result is cached for the
life of the process (a Lambda execution environment). A function builds only what its path
uses: PrepareRun needs the repository alone (`jobs()`), CompleteRun and Reconcile the repository
and the secret store (`secret_store()`, to delete spent passwords); the phases need every Step 6
dependency (`step6_deps()`); the API its own set (`api_deps()`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from handlers.settings import get_settings

if TYPE_CHECKING:
    from clients.http_registers import HttpRegisters
    from clients.platform import PumpdPlatform
    from clients.platform_sandbox import SandboxService
    from clients.register_simulator import RegisterSimulator
    from clients.secrets import SecretStore
    from domain.deps import ApiDeps, Step6Deps
    from domain.operation_items import ItemDeps
    from domain.operations import OperationDeps
    from domain.pipeline_actions import PipelineApiDeps
    from domain.pipeline_steps import PipelineDeps
    from state.repository import JobRepository


def _platform() -> PumpdPlatform:
    settings = get_settings()
    if settings.platform_mode == "simulator":
        from clients.simulator import shared_simulator

        return shared_simulator()
    from clients.http_platform import HttpPlatform
    from clients.platform_auth import Authenticator, SecretBearerKey, SigV4Signer

    if not settings.platform_base_url:
        raise ValueError(f"PLATFORM_MODE={settings.platform_mode} needs PLATFORM_BASE_URL")
    auth: Authenticator
    if settings.platform_mode == "sandbox":
        auth = SigV4Signer(settings.aws_region)
    else:
        auth = SecretBearerKey(settings.platform_api_key_secret_arn)
    return HttpPlatform(settings.platform_base_url, auth, settings.platform_timeout_s)


@lru_cache(maxsize=1)
def platform_sandbox() -> SandboxService:
    """The platform sandbox's service over its own table (handlers.platform_sandbox)."""
    import boto3

    from clients.platform_sandbox import SandboxService
    from clients.simulator import PlatformSimulator
    from state.platform_sandbox import DynamoDBPlatformState

    settings = get_settings()
    if not settings.sandbox_table_name:
        raise ValueError("the platform sandbox needs SANDBOX_TABLE_NAME")
    resource = boto3.resource("dynamodb", endpoint_url=settings.dynamodb_endpoint_url)
    state = DynamoDBPlatformState(resource.Table(settings.sandbox_table_name))
    return SandboxService(PlatformSimulator(state))


def _repository() -> JobRepository:
    import boto3

    from domain.summary import summarize
    from state.repository import JobRepository

    settings = get_settings()
    resource = boto3.resource("dynamodb", endpoint_url=settings.dynamodb_endpoint_url)
    # The job summary is the domain's rule: the repository is handed it (state never imports
    # domain) and writes it with every change of a job's standing.
    return JobRepository(resource.Table(settings.table_name), summarize=summarize)


@lru_cache(maxsize=1)
def jobs() -> JobRepository:
    """The repository of the Step 6 task functions (the phases share it via step6_deps)."""
    return _repository()


@lru_cache(maxsize=1)
def secret_store() -> SecretStore:
    """The account passwords, encrypted under the stack's key (clients.secrets)."""
    import boto3

    from clients.secrets import KmsPasswordStore

    return KmsPasswordStore(boto3.client("kms"), get_settings().password_key_id)


@lru_cache(maxsize=1)
def step6_deps() -> Step6Deps:
    import boto3

    from clients.storage import S3ObjectStore
    from domain.deps import Step6Deps
    from domain.runner import RetryPolicy

    settings = get_settings()
    return Step6Deps(
        jobs=jobs(),
        platform=_platform(),
        store=S3ObjectStore(boto3.client("s3"), settings.bucket_name),
        secrets=secret_store(),
        retry=RetryPolicy(
            max_attempts=settings.substep_max_attempts,
            base_delay_s=settings.substep_retry_base_s,
        ),
    )


@lru_cache(maxsize=1)
def api_deps() -> ApiDeps:
    import boto3

    from clients.executions import StepFunctionsRunner
    from domain.deps import ApiDeps

    settings = get_settings()
    return ApiDeps(
        jobs=_repository(),
        secrets=secret_store(),
        executions=StepFunctionsRunner(boto3.client("stepfunctions"), settings.state_machine_arn),
    )


@lru_cache(maxsize=1)
def operation_deps() -> OperationDeps:
    """The API's bulk operations: the stored operation, its job list, the engine (§13)."""
    import boto3

    from clients.storage import S3ObjectStore
    from clients.task_tokens import StepFunctionsOperations
    from domain.operations import OperationDeps
    from state.operations import OperationRepository

    settings = get_settings()
    api = api_deps()
    return OperationDeps(
        jobs=api.jobs,
        ops=OperationRepository.beside(api.jobs),
        secrets=api.secrets,
        store=S3ObjectStore(boto3.client("s3"), settings.bucket_name),
        engine=StepFunctionsOperations(
            boto3.client("stepfunctions"), settings.bulk_operation_state_machine_arn
        ),
        answer_timeout_s=settings.operation_answer_timeout_s,
    )


@lru_cache(maxsize=1)
def operation_item_deps() -> ItemDeps:
    """OperationItemFunction: claims and starts runs like the API, answers task tokens."""
    import boto3

    from clients.executions import StepFunctionsRunner
    from clients.storage import S3ObjectStore
    from clients.task_tokens import StepFunctionsTaskTokens
    from domain.operation_items import ItemDeps
    from state.operations import OperationRepository

    settings = get_settings()
    sfn = boto3.client("stepfunctions")
    return ItemDeps(
        jobs=jobs(),
        ops=OperationRepository.beside(jobs()),
        secrets=secret_store(),
        store=S3ObjectStore(boto3.client("s3"), settings.bucket_name),
        executions=StepFunctionsRunner(sfn, settings.state_machine_arn),
        tokens=StepFunctionsTaskTokens(sfn),
    )


def _registers() -> RegisterSimulator | HttpRegisters:
    """The contact directory and the company register (one adapter implements both)."""
    settings = get_settings()
    if settings.register_mode == "sandbox":
        from clients.register_simulator import RegisterSimulator

        return RegisterSimulator()
    from clients.http_registers import HttpRegisters

    if not settings.register_base_url:
        raise ValueError("REGISTER_MODE=http needs REGISTER_BASE_URL")
    return HttpRegisters(
        settings.register_base_url,
        api_key_secret_arn=settings.register_api_key_secret_arn or None,
        timeout_s=settings.register_timeout_s,
    )


@lru_cache(maxsize=1)
def pipeline_deps() -> PipelineDeps:
    """The JobPipeline's step functions: the website fetcher, the directory and register."""
    from clients.website import WebsiteFetcher
    from domain.pipeline_steps import PipelineDeps

    settings = get_settings()
    registers = _registers()
    return PipelineDeps(
        jobs=jobs(),
        fetcher=WebsiteFetcher(
            timeout_s=settings.site_timeout_s,
            max_bytes=settings.site_max_bytes,
            allow_private=settings.site_allow_private,
        ),
        directory=registers,
        register=registers,
        phone_region=settings.phone_region,
    )


@lru_cache(maxsize=1)
def pipeline_api_deps() -> PipelineApiDeps:
    """The API's Steps 1-4: starts JobPipeline executions, checks Step 3's company numbers."""
    import boto3

    from clients.executions import StepFunctionsRunner
    from domain.pipeline_actions import PipelineApiDeps

    settings = get_settings()
    return PipelineApiDeps(
        jobs=api_deps().jobs,
        executions=StepFunctionsRunner(
            boto3.client("stepfunctions"), settings.job_pipeline_state_machine_arn
        ),
        register=_registers(),
        phone_region=settings.phone_region,
    )


def reset() -> None:
    """Forget built dependencies (tests and the local runtime change the environment)."""
    get_settings.cache_clear()
    jobs.cache_clear()
    secret_store.cache_clear()
    step6_deps.cache_clear()
    api_deps.cache_clear()
    operation_deps.cache_clear()
    operation_item_deps.cache_clear()
    pipeline_deps.cache_clear()
    pipeline_api_deps.cache_clear()
    from clients.task_tokens import default_task_tokens

    default_task_tokens.cache_clear()
    platform_sandbox.cache_clear()
