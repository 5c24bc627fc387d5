"""What an uninterrupted Step 6 run of a job produces: the yardstick of the resilience tests."""

from __future__ import annotations

from typing import Any

from clients.platform import CallMeta
from clients.simulator import PlatformSimulator
from domain.catalogue import CATALOGUE, SUB_STEP_LOGIC
from domain.context import reconstruct_context
from domain.planner import disabled_ancestor
from domain.substeps.base import SubStepInput
from local.samples import config_data
from state.models import (
    PHASE_NAMES,
    Job,
    PhaseProgress,
    Step6Progress,
    SubStepProgress,
    SubStepStatus,
)


class _Store:
    def __init__(self) -> None:
        self.objects: dict[str, str] = {}

    def put_text(self, key: str, text: str, content_type: str) -> None:
        self.objects[key] = text

    def get_text(self, key: str) -> str:
        return self.objects[key]


class _Secrets:
    """The password every sample config submits (local.samples.config_data)."""

    def put_password(self, job_id: str, password: str) -> str:
        raise NotImplementedError

    def get_password(self, ref: str) -> str:
        password: str = config_data()["account"]["password"]
        return password

    def delete_password(self, ref: str) -> None:
        raise NotImplementedError


def reference_outputs(job: Job) -> dict[str, dict[str, Any]]:
    """The outputs an uninterrupted run of this very job produces, on a fresh platform.

    Runs each sub-step that can run (enabled, no disabled dependency) once, in catalogue
    (dependency) order, with the context rebuilt from the outputs so far, against a new
    simulator. The simulator derives every object id from the idempotency key
    `<job_id>:<sub_step>` and the effect's sequence number under that key, so these are exactly
    the ids a run of the job that took each effect once gets, and equality with them is a
    strong check: a repeated effect would carry another id (sequence 1), a lost output would be
    missing, a wrong context would change what the platform refuses or returns. Generated file
    keys are per job, checksums per content: they match too.
    """
    config = job.execution_config
    assert config is not None
    if config.account.password_deleted_at is not None:
        # The run deleted the password once the account existed; this run, on a fresh platform,
        # creates the account again and reads it (`_Secrets` answers the submitted one).
        config = config.model_copy(deep=True)
        config.account.password_secret_ref = "deleted-after-use"
    simulator, store, secrets = PlatformSimulator(), _Store(), _Secrets()
    progress = Step6Progress(phases={p: PhaseProgress() for p in PHASE_NAMES})
    produced: dict[str, dict[str, Any]] = {}
    for spec in CATALOGUE:
        if not spec.enabled(config) or disabled_ancestor(spec, config) is not None:
            continue
        output = SUB_STEP_LOGIC[spec.name](
            SubStepInput(
                job_id=job.job_id,
                restaurant=job.restaurant,
                config=config,
                context=reconstruct_context(progress),
                meta=CallMeta(
                    job_id=job.job_id, sub_step=spec.name, restaurant_name=job.restaurant.name
                ),
                platform=simulator,
                store=store,
                secrets=secrets,
            )
        )
        progress.phases[spec.phase].sub_steps[spec.name] = SubStepProgress(
            status=SubStepStatus.COMPLETED, output=output
        )
        produced[spec.name] = output
    return produced
