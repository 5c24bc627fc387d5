"""A job's password is kept only while a sub-step may still read it (domain.passwords).

The decision is pure (`spent_password_ref`); deleting is idempotent and crash-safe
(`discard_spent_password`), and CompleteRun deletes once the run has settled.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from clients.secrets import SecretStoreError
from domain.passwords import PASSWORD_READERS, discard_spent_password, spent_password_ref
from domain.phase_tasks import complete_run
from state.models import PHASE_NAMES, SkipReason, StepStatus, SubStepStatus
from tests.factories import ALL_SUB_STEPS, make_configured_job, make_job
from tests.unit.fake_repository import FakeJobRepository
from tests.unit.fakes import InMemorySecretStore
from tests.unit.step6_runs import start_step6

ACCOUNT = "cloudwaitressAccount"


# --- when may the secret be deleted (pure) --------------------------------------------------


def test_the_only_reader_of_the_password_is_the_account_sub_step() -> None:
    # derived from the declarations: the sub-steps whose reads_config names account.password
    assert [spec.name for spec in PASSWORD_READERS] == [ACCOUNT]


@pytest.mark.parametrize(
    "status",
    [SubStepStatus.PENDING, SubStepStatus.IN_PROGRESS, SubStepStatus.FAILED],
)
def test_the_password_is_kept_while_the_account_sub_step_may_still_run(
    status: SubStepStatus,
) -> None:
    # given a job whose account sub-step has not completed (not yet run, running, or failed)
    job = make_configured_job({ACCOUNT: status})
    # then its password is still needed: a resume creates the account with it
    assert spent_password_ref(job) is None


def test_the_password_is_spent_once_the_account_exists() -> None:
    # given the account sub-step completed (created, or found by email)
    job = make_configured_job({ACCOUNT: SubStepStatus.COMPLETED})
    # then nothing can read the password again
    assert spent_password_ref(job) == "ref"


def test_the_password_is_spent_even_when_later_sub_steps_failed() -> None:
    # given the account exists but the job failed later (it waits for a resume at phase 2)
    job = make_configured_job(
        {ACCOUNT: SubStepStatus.COMPLETED, "restaurantRegistration": SubStepStatus.FAILED}
    )
    # then the resume cannot need the password: the account is never made twice
    assert spent_password_ref(job) == "ref"


def test_the_password_is_spent_when_the_config_switches_the_account_sub_step_off() -> None:
    # given a config that disables the only sub-step that reads the password
    job = make_configured_job(
        {ACCOUNT: SubStepStatus.SKIPPED},
        disabled=(ACCOUNT,),
        skip_reasons={ACCOUNT: SkipReason.DISABLED},
    )
    # then it can never run, and the password is spent (Step 5's config is locked)
    assert spent_password_ref(job) == "ref"


def test_a_job_without_a_password_has_nothing_to_delete() -> None:
    # given no password was given (or it was deleted already), or Step 5 was never submitted
    completed = dict.fromkeys(ALL_SUB_STEPS, SubStepStatus.COMPLETED)
    assert spent_password_ref(make_configured_job(completed, password_ref=None)) is None
    assert spent_password_ref(make_job()) is None


# --- deleting: idempotent, crash-safe -------------------------------------------------------


@dataclass
class Stored:
    jobs: FakeJobRepository
    secrets: InMemorySecretStore
    job_id: str
    ref: str


def _stored(statuses: dict[str, SubStepStatus]) -> Stored:
    """A stored job whose password is in the secret store, with the given progress."""
    jobs, secrets = FakeJobRepository(), InMemorySecretStore()
    job = make_configured_job(statuses)
    ref = secrets.put_password(job.job_id, "Secret-Pa55word")
    assert job.execution_config is not None
    job.execution_config.account.password_secret_ref = ref
    jobs.put_job(job)
    return Stored(jobs, secrets, job.job_id, ref)


def test_a_spent_password_is_deleted_and_the_job_forgets_its_reference() -> None:
    # given a job whose account exists, its password still stored
    given = _stored({ACCOUNT: SubStepStatus.COMPLETED})
    # when its spent password is discarded
    assert discard_spent_password(given.jobs, given.secrets, given.jobs.get_job(given.job_id))
    # then the secret is gone and the job references none, remembering that one was given
    assert given.ref not in given.secrets.secrets
    config = given.jobs.get_job(given.job_id).execution_config
    assert config is not None
    assert config.account.password_secret_ref is None
    assert config.account.password_deleted_at is not None
    assert config.account.password_given


def test_discarding_again_changes_nothing() -> None:
    # given a spent password already discarded
    given = _stored({ACCOUNT: SubStepStatus.COMPLETED})
    discard_spent_password(given.jobs, given.secrets, given.jobs.get_job(given.job_id))
    writes = given.jobs.writes
    # when a second settlement of the job discards it again
    again = discard_spent_password(given.jobs, given.secrets, given.jobs.get_job(given.job_id))
    # then nothing is deleted or written
    assert again is False
    assert given.secrets.deletes == [given.ref]
    assert given.jobs.writes == writes


def test_a_crash_between_deleting_and_forgetting_is_finished_by_the_next_attempt() -> None:
    # given a Lambda that deleted the secret and died before clearing the job's reference
    given = _stored({ACCOUNT: SubStepStatus.COMPLETED})
    given.secrets.delete_password(given.ref)
    # when the next settlement discards it
    assert discard_spent_password(given.jobs, given.secrets, given.jobs.get_job(given.job_id))
    # then the secret already gone counts as deleted, and the reference is cleared
    config = given.jobs.get_job(given.job_id).execution_config
    assert config is not None and config.account.password_secret_ref is None


def test_a_stale_read_never_clears_a_reference_it_did_not_delete() -> None:
    # given a settlement that read the job when it held an older reference
    given = _stored({ACCOUNT: SubStepStatus.COMPLETED})
    stale = given.jobs.get_job(given.job_id)
    assert stale.execution_config is not None
    stale.execution_config.account.password_secret_ref = "an-older-ref"
    # when it discards what it read
    assert discard_spent_password(given.jobs, given.secrets, stale) is False
    # then the job's own reference is untouched (a later settlement deletes that one)
    config = given.jobs.get_job(given.job_id).execution_config
    assert config is not None and config.account.password_secret_ref == given.ref


def test_a_password_still_needed_is_not_touched() -> None:
    # given a job that failed before the account existed
    given = _stored({ACCOUNT: SubStepStatus.FAILED})
    # when it settles
    assert not discard_spent_password(given.jobs, given.secrets, given.jobs.get_job(given.job_id))
    # then its password stays, for the resume
    assert given.secrets.deletes == []
    assert given.secrets.get_password(given.ref) == "Secret-Pa55word"


class _FailingSecrets(InMemorySecretStore):
    def delete_password(self, ref: str) -> None:
        raise SecretStoreError("throttled")


def test_a_failed_deletion_keeps_the_reference_for_the_next_attempt() -> None:
    # given a secret store that refuses to delete
    given = _stored({ACCOUNT: SubStepStatus.COMPLETED})
    failing = _FailingSecrets()
    # when the spent password is discarded, the store's error is raised
    with pytest.raises(SecretStoreError):
        discard_spent_password(given.jobs, failing, given.jobs.get_job(given.job_id))
    # and the job still references the secret, so a later settlement deletes it
    config = given.jobs.get_job(given.job_id).execution_config
    assert config is not None and config.account.password_secret_ref == given.ref


# --- CompleteRun -----------------------------------------------------------------------------


def _ran_every_phase(secrets: InMemorySecretStore) -> tuple[FakeJobRepository, str, str]:
    """A job submitted with a password whose four phases have run (CompleteRun is next)."""
    run = start_step6(secrets)
    for phase in PHASE_NAMES:
        run.phase(phase)
    return run.jobs, run.job_id, run.arn


def test_complete_run_settles_then_deletes_the_password() -> None:
    # given a run whose phases all completed, the password still stored
    secrets = InMemorySecretStore()
    jobs, job_id, arn = _ran_every_phase(secrets)
    assert len(secrets.secrets) == 1
    # when CompleteRun runs
    result = complete_run(jobs, secrets, job_id, arn)  # type: ignore[arg-type]
    # then the job is completed, the secret deleted and no longer referenced
    assert result["status"] == StepStatus.COMPLETED.value
    assert secrets.secrets == {}
    config = jobs.get_job(job_id).execution_config
    assert config is not None and config.account.password_secret_ref is None


def test_complete_run_does_not_fail_a_settled_run_over_a_failed_deletion() -> None:
    # given a secret store that refuses to delete, at CompleteRun time only
    secrets = _FailingSecrets()
    jobs, job_id, arn = _ran_every_phase(secrets)
    # when CompleteRun runs, the run still completes
    result = complete_run(jobs, secrets, job_id, arn)  # type: ignore[arg-type]
    assert result["status"] == StepStatus.COMPLETED.value
    # and the job keeps its reference, for the reconciler to delete when the execution ends
    config = jobs.get_job(job_id).execution_config
    assert config is not None and config.account.password_secret_ref is not None
