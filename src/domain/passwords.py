"""A job's account password is kept only while a sub-step may still read it.

The password is stored in Secrets Manager at Step 5 and read by the sub-steps that declare
`account.password` in `reads_config` (today `cloudwaitressAccount`, which creates the platform
account). Once each of them is settled (completed: the account exists, created or found; or it
can never run: disabled by the config), nothing can read the password again, and its secret
is deleted (`SecretStore.delete_password`, a forced delete: clients/secrets.py says why).

Where: when a run settles. CompleteRun deletes it at once on success; the reconciler, which
handles every finished execution (succeeded, failed, timed out, aborted), deletes it too, so a
Lambda that died after the account's checkpoint, or a CompleteRun that died before deleting,
still leaves it deleted once the execution ends. A job that failed before the account existed
keeps its secret, so a resume can create the account.

Crash-safe order: the secret is deleted first, the job's reference cleared after; a crash in
between leaves the reference, and the next attempt deletes again (a secret already gone counts
as deleted) and clears it. Clearing the reference first could orphan a secret forever.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.catalogue import CATALOGUE
from domain.observability import logger
from domain.planner import is_settled
from state.models import Job
from state.repository import JobRepository

if TYPE_CHECKING:
    from clients.secrets import SecretStore

# The config path by which a sub-step declares that it reads the password (SubStep.reads_config).
PASSWORD_CONFIG = "account.password"
PASSWORD_READERS = tuple(spec for spec in CATALOGUE if PASSWORD_CONFIG in spec.reads_config)


def spent_password_ref(job: Job) -> str | None:
    """The reference to the job's password secret if no sub-step can read it again, else None."""
    config = job.execution_config
    if config is None or config.account.password_secret_ref is None:
        return None
    if all(is_settled(spec, config, job.step6_progress) for spec in PASSWORD_READERS):
        return config.account.password_secret_ref
    return None


def discard_spent_password(jobs: JobRepository, secrets: SecretStore, job: Job) -> bool:
    """Delete the job's password secret if it is spent, then forget its reference.

    `job` is the job as recently read: its progress only ever moves towards settled, so a
    stale read can delay a deletion, never make one too early. Idempotent; True when this call
    cleared the reference. `clients.secrets.SecretStoreError` when the secret was not deleted
    (the reference is then kept, for the next settlement to try again).
    """
    ref = spent_password_ref(job)
    if ref is None:
        return False
    secrets.delete_password(ref)
    # The job keeps when (password_deleted_at), so the API can still say a password was given.
    if not jobs.forget_password_secret(job.job_id, ref):
        return False  # cleared meanwhile by another settlement of the job
    logger.info("password secret deleted: no sub-step can read it again", job_id=job.job_id)
    return True
