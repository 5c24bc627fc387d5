"""A job's password lives only while a sub-step may read it: whole runs on the runtime.

The job holds it only as a ciphertext under the stack's key (clients.secrets); forgetting that
reference is its deletion, so these tests read the job itself.
"""

from __future__ import annotations

import pytest

from domain.batch_actions import submit_step5_selected
from domain.catalogue import CATALOGUE
from domain.onboarding import ExecutionConfigInput
from handlers.wiring import api_deps
from local.samples import config_data
from state.models import Job, StepStatus, SubStepStatus
from tests.integration.conftest import ORG, Harness
from tests.resilience.support import wait_until

pytestmark = pytest.mark.integration

ACCOUNT = "cloudwaitressAccount"
# Jobs of one batch in the scale check, each running the account sub-step only (what reads the
# password is all that matters here). The runtime on moto takes ~2.5 s a job whatever the jobs do
# (100 jobs: 4 minutes), and the package's runtime keeps every job until it stops: 40 is bounded.
SCALE_JOBS = 40
ACCOUNT_ONLY = {spec.name: spec.name == ACCOUNT for spec in CATALOGUE}


def password_ref(job: Job) -> str | None:
    assert job.execution_config is not None
    return job.execution_config.account.password_secret_ref


def holds_password(harness: Harness, job_id: str) -> bool:
    return password_ref(harness.jobs.get_job(job_id)) is not None


def assert_password_deleted(harness: Harness, job_id: str) -> None:
    """The job holds no password any more, but remembers one was given."""
    # the reconciler forgets it as the run's event is handled: poll, with a deadline
    wait_until(lambda: not holds_password(harness, job_id), timeout_s=10)
    job = harness.jobs.get_job(job_id)
    assert job.execution_config is not None
    assert password_ref(job) is None
    assert job.execution_config.account.password_deleted_at is not None
    assert job.execution_config.account.password_given


def test_a_completed_job_no_longer_has_its_password(harness: Harness) -> None:
    # given a job submitted with a password, which runs to completion
    job, _ = harness.run_job()
    # then the job no longer holds its password
    assert job.status == StepStatus.COMPLETED
    assert_password_deleted(harness, job.job_id)
    assert harness.effect_counts(job.job_id)[ACCOUNT] == 1


@pytest.mark.parametrize(
    "fault",
    [
        # the account's creation fails permanently once: it is yet to be created with the password
        pytest.param("fail", id="failing-before-the-account-exists"),
        # the account is created, then the Lambda dies before the checkpoint: the sub-step may
        # still run (it will find the account, not create it again)
        pytest.param("crash_after", id="crashing-right-after-creating-the-account"),
    ],
)
def test_a_job_whose_account_sub_step_failed_keeps_its_password_until_completed(
    harness: Harness, fault: str
) -> None:
    # given the account sub-step fails
    harness.fault(ACCOUNT, fault)
    job, _ = harness.run_job()
    assert job.status == StepStatus.ACTION_REQUIRED
    assert job.step6_progress.sub_step("phase1", ACCOUNT).status == SubStepStatus.FAILED
    # then the settled job still has its password: the sub-step may yet need it
    ref = password_ref(job)
    assert ref is not None
    assert (
        api_deps().secrets.get_password(ref)
        == config_data(job.restaurant.name)["account"]["password"]
    )
    # when it is resumed, the account sub-step runs once more and the job completes
    job, _ = harness.resume(job.job_id)
    assert job.status == StepStatus.COMPLETED
    assert harness.effect_counts(job.job_id)[ACCOUNT] == 1
    # then, and only then, the password is deleted
    assert_password_deleted(harness, job.job_id)


def test_a_job_failing_after_its_account_exists_deletes_the_password_as_it_settles(
    harness: Harness,
) -> None:
    # given the account is created, then the run fails at the restaurant's registration
    harness.fault("restaurantRegistration", "fail")
    job, _ = harness.run_job()
    assert job.status == StepStatus.ACTION_REQUIRED
    # then the failed run's settlement (the reconciler) deleted the spent password
    assert_password_deleted(harness, job.job_id)
    # and the resume completes without it: the account is never made twice
    job, _ = harness.resume(job.job_id)
    assert job.status == StepStatus.COMPLETED
    assert set(harness.effect_counts(job.job_id).values()) == {1}


def test_a_crash_after_the_account_checkpoint_still_ends_with_the_password_deleted(
    harness: Harness,
) -> None:
    # given the account sub-step checkpointed, then the next phase's Lambda dies mid-call
    harness.fault("restaurantRegistration", "crash_after")
    job, _ = harness.run_job()
    assert job.step6_progress.sub_step("phase1", ACCOUNT).status == SubStepStatus.COMPLETED
    assert job.status == StepStatus.ACTION_REQUIRED
    # then nothing ran after the checkpoint to delete it, yet the job's settlement did
    assert_password_deleted(harness, job.job_id)


def test_without_the_reconciler_the_next_completed_run_deletes_it(harness: Harness) -> None:
    # given the account exists, the run crashes in phase 2, and its status event is lost
    harness.runtime.deliver_events = False
    harness.fault("restaurantRegistration", "crash_after")
    (job,) = harness.create_batch()
    harness.runtime.wait_for(harness.submit(job))
    # then nothing has deleted the password yet (no settlement has run)
    assert holds_password(harness, job.job_id)
    # when the job is resumed (its read settles the lost run) and completes
    job, _ = harness.resume(job.job_id)
    assert job.status == StepStatus.COMPLETED
    # then CompleteRun deleted it
    assert_password_deleted(harness, job.job_id)


def test_every_password_of_a_large_batch_is_deleted_after_completion(harness: Harness) -> None:
    size = SCALE_JOBS
    # given one batch of `size` jobs, each submitted with a password in one Step 5 call
    created = harness.create_batch([f"Scale Cafe {i}" for i in range(size)])
    deps = api_deps()
    configs = [
        (
            job.job_id,
            ExecutionConfigInput.model_validate(
                config_data(job.restaurant.name, steps_enabled=ACCOUNT_ONLY)
            ),
        )
        for job in created
    ]
    settled = submit_step5_selected(
        deps.jobs, deps.secrets, deps.executions, ORG, created[0].batch_id, configs
    )
    assert len(settled.accepted) == size and not settled.rejected
    # when every run has ended
    for run in settled.accepted:
        assert harness.runtime.wait_for(run.execution_arn, timeout_s=600) == "SUCCEEDED"
    # then every job completed with its account, and no job of the batch holds its password
    jobs = harness.jobs.list_jobs(created[0].batch_id)
    assert len(jobs) == size
    for listed in jobs:
        job = harness.jobs.get_job(listed.job_id)
        assert job.status == StepStatus.COMPLETED
        assert job.step6_progress.sub_step("phase1", ACCOUNT).status == SubStepStatus.COMPLETED
        assert password_ref(job) is None
        assert job.execution_config is not None
        assert job.execution_config.account.password_deleted_at is not None
