"""Random histories of one job through the Step 6 core: faults, lost events, resumes, redrives.

A hypothesis state machine drives the real use cases (domain.phase_tasks: prepare_run, run_phase,
complete_run, settle_execution, reconcile_stale, resume_job; domain.onboarding.submit_step5)
over an in-memory repository (tests.unit.fake_repository), the platform simulator and an
execution runner that plays the state machine's part in process: PrepareRun, the route to the
resume point, the phase tasks in order (a phase that raises ends the execution FAILED, with no
Catch, as in the ASL), CompleteRun. A status-change event may be lost; a read reconciles.

Between steps the machine checks what must hold for *any* history:

- every platform side effect happened at most once (one ledger entry per sub-step, taken once);
- a completed sub-step stays completed with the same output; attempts never go down;
- a settled job has no stale `in_progress` sub-step, and nothing to do before its resume
  point (`resume_from` is the first phase that is not completed);
- the planner never plans a completed sub-step, and context reconstruction gives every planned
  sub-step what it needs;
- the password's secret exists while a sub-step may still read it, and a job's reference to it
  is cleared only once it is deleted (CompleteRun and the reconciler delete it).

At the end the faults stop: reads and resumes must then complete the job, with exactly the
outputs an uninterrupted run produces and each effect exactly once, and no password secret left.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import Phase, settings
from hypothesis import event as hypothesis_event
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from clients.simulator import FaultSpec, PlatformSimulator, SimulatedCrash
from domain import errors
from domain.catalogue import CATALOGUE, CONTEXT_NEEDS, SUB_STEPS, dependents_of
from domain.context import reconstruct_context
from domain.deps import Step6Deps
from domain.onboarding import ExecutionConfigInput, submit_step5
from domain.operator_actions import (
    ConfigAmendment,
    amend_config,
    cancel_run,
    rerun,
    skip_sub_step,
)
from domain.outcome import ExecutionStatus, waits_for_resume
from domain.passwords import PASSWORD_READERS, discard_spent_password
from domain.phase_tasks import complete_run, prepare_run, run_phase
from domain.planner import disabled_ancestor, is_settled, plan_phase
from domain.reads import details
from domain.resume import phase_statuses, resume_point
from domain.runner import RetryPolicy
from domain.runs import resume_job
from domain.settlement import reconcile_stale, settle_execution
from local.samples import RESTAURANT_NAMES, config_data
from state.errors import ConflictError
from state.models import (
    PHASE_NAMES,
    RUNS_KEPT,
    ErrorCode,
    ExecutionConfig,
    Job,
    PhaseStatus,
    SkipReason,
    StepStatus,
    SubStepProgress,
    SubStepStatus,
    tally_of,
)
from tests.factories import make_job
from tests.reference import reference_outputs
from tests.unit.fake_repository import FakeJobRepository
from tests.unit.fakes import InMemoryObjectStore, InMemorySecretStore

MAX_ATTEMPTS = 3
MODES = ("fail", "transient", "crash_before", "crash_after")
FAULTS = st.builds(
    lambda sub_step, mode, times: FaultSpec(
        sub_step=sub_step, mode=mode, times=times if mode == "transient" else 1
    ),
    sub_step=st.sampled_from([s.name for s in CATALOGUE]),
    mode=st.sampled_from(MODES),
    times=st.integers(min_value=1, max_value=MAX_ATTEMPTS + 1),
)


STATES = ("PrepareRun", *PHASE_NAMES, "CompleteRun")
ACTOR = "ops@pumpd.example"
ORG = "org-a"
# An operator's amendments: each a config path and a value it may be set to (a change only
# when it differs from the stored one). Values keep the job completable once faults stop.
_SAMPLE = config_data(RESTAURANT_NAMES[0])
AMENDMENTS = st.one_of(
    st.tuples(st.just("account.email"), st.sampled_from(["owner@other.example"])),
    st.tuples(
        st.sampled_from(
            [
                "menu.uploadImages",
                "menu.addOptionSets",
                "menu.addItemTags",
                "onboarding.createOnboardingUser",
                "onboarding.syncOnboardingRecord",
            ]
        ),
        st.booleans(),
    ),
    # (a null is refused by the amendment's model: leaving a field out is "no change")
    st.tuples(st.just("menu.selectedMenuId"), st.just(_SAMPLE["menu"]["selectedMenuId"])),
    st.tuples(st.sampled_from([f"steps_enabled.{s.name}" for s in CATALOGUE]), st.booleans()),
)
# A few steps of an execution, or all of it (None): a run left half-way can be cancelled.
PAUSES = st.one_of(st.none(), st.integers(min_value=0, max_value=len(STATES) - 1))


def event(text: str) -> None:
    """Count `text` in hypothesis' statistics (a replayed history runs outside hypothesis)."""
    with contextlib.suppress(InvalidArgument):
        hypothesis_event(text)


@dataclass
class Execution:
    arn: str
    payload: dict[str, Any]
    status: str = "RUNNING"
    failed_state: str | None = None
    cause: str | None = None
    # The next state the execution runs (None once it has ended).
    cursor: str | None = "PrepareRun"


class InProcessExecutions:
    """`ExecutionRunner` whose executions run when the machine says so (see `run`)."""

    def __init__(self) -> None:
        self.executions: dict[str, Execution] = {}
        self.started: list[str] = []

    def execution_arn(self, name: str) -> str:
        return f"arn:aws:states:us-east-1:123456789012:execution:Step6:{name}"

    def start(self, name: str, payload: dict[str, Any]) -> str:
        arn = self.execution_arn(name)
        self.executions.setdefault(arn, Execution(arn, payload))
        self.started.append(arn)
        return arn

    def status(self, execution_arn: str) -> tuple[str, str | None, str | None]:
        execution = self.executions[execution_arn]
        return execution.status, None, execution.cause

    def stop(self, execution_arn: str, *, cause: str) -> None:
        execution = self.executions[execution_arn]
        if execution.status == "RUNNING":
            execution.status, execution.cause = "ABORTED", cause


def _amendment(path: str, value: Any) -> ConfigAmendment:
    section, field = path.split(".")
    return ConfigAmendment.model_validate({section: {field: value}})


def _stored(config: ExecutionConfig, path: str) -> Any:
    section, field = path.split(".")
    if section == "steps_enabled":
        return config.steps_enabled.get(field, True)
    return getattr(getattr(config, section), field)


def _readers(path: str) -> set[str]:
    """The sub-steps that read a config path (the catalogue's `config_fields`)."""
    if path.startswith("steps_enabled."):
        return {path.removeprefix("steps_enabled.")}
    return {s.name for s in CATALOGUE if path in s.config_fields}


def _statuses(job: Job) -> dict[str, SubStepProgress]:
    return {
        name: sub
        for phase in job.step6_progress.phases.values()
        for name, sub in phase.sub_steps.items()
    }


def _completed(job: Job) -> set[str]:
    return {n for n, sub in _statuses(job).items() if sub.status == SubStepStatus.COMPLETED}


def _used(job: Job) -> set[str]:
    """Sub-steps whose inputs may no longer change: completed, or attempted with an effect
    that may have happened (anything but a refusal or an unusable config)."""
    refused = {ErrorCode.PLATFORM_REJECTED, ErrorCode.INVALID_CONFIG}
    return _completed(job) | {
        n
        for n, sub in _statuses(job).items()
        if sub.status == SubStepStatus.FAILED and sub.error_code not in refused
    }


class Step6Histories(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.jobs = FakeJobRepository()
        self.platform = PlatformSimulator()
        self.secrets = InMemorySecretStore()
        self.executions = InProcessExecutions()
        self.deps = Step6Deps(
            jobs=self.jobs,  # type: ignore[arg-type]
            platform=self.platform,
            store=InMemoryObjectStore(),
            secrets=self.secrets,
            retry=RetryPolicy(max_attempts=MAX_ATTEMPTS, base_delay_s=0),
        )
        self.job_id = ""
        self.seen_outputs: dict[str, Any] = {}
        self.seen_attempts: dict[str, int] = {}
        # Effects asked for once more: per sub-step, the re-runs that reset it once completed.
        self.requested: Counter[str] = Counter()
        self.operator_skipped: set[str] = set()
        self.claims_started = 0
        self.redrives = 0

    # ------------------------------------------------------------------ the state machine's part

    def run(
        self,
        arn: str,
        *,
        from_state: str | None = None,
        deliver: bool = True,
        pause: int | None = None,
    ) -> None:
        """Run an execution (from where it is, or a redrive from `from_state`) to its end, or
        `pause` states of it (then it stays RUNNING: a later `advance` or `cancel` goes on)."""
        execution = self.executions.executions[arn]
        if from_state is not None:
            execution.status, execution.cause = "RUNNING", None
            execution.cursor = from_state
        ran = 0
        try:
            while execution.cursor is not None and execution.status == "RUNNING":
                if pause is not None and ran >= pause:
                    event("execution paused")
                    return
                state, ran = execution.cursor, ran + 1
                execution.failed_state = state
                if state == "PrepareRun":
                    resume_from = execution.payload.get("resume_from")
                    prepare_run(self.jobs, self.job_id, arn, resume_from)  # type: ignore[arg-type]
                    execution.cursor = resume_from or "phase1"
                    continue
                if state == "CompleteRun":
                    complete_run(self.jobs, self.secrets, self.job_id, arn)  # type: ignore[arg-type]
                    execution.status, execution.failed_state = "SUCCEEDED", None
                    execution.cursor = None
                    continue
                run_phase(self.deps, self.job_id, state, arn)  # type: ignore[arg-type]
                execution.cursor = STATES[STATES.index(state) + 1]
        except SimulatedCrash as crash:
            execution.status, execution.cause = "FAILED", f"Runtime.ExitError {crash}"
            execution.cursor = None
        except Exception as error:  # noqa: BLE001 - a task error fails the execution
            execution.status, execution.cause = "FAILED", f"{type(error).__name__} {error}"
            execution.cursor = None
        event(f"execution {execution.status} at {execution.failed_state or 'the end'}")
        self.settled(arn, deliver=deliver)

    def settled(self, arn: str, *, deliver: bool) -> None:
        if deliver:
            self.deliver(arn)
        else:
            event("status-change event lost")

    def deliver(self, arn: str) -> None:
        """The reconciler: settle, then delete the password if no sub-step can read it."""
        execution = self.executions.executions[arn]
        job = settle_execution(
            self.jobs,  # type: ignore[arg-type]
            self.job_id,
            arn,
            ExecutionStatus(execution.status),
            execution.cause,
        )
        discard_spent_password(self.jobs, self.secrets, job)  # type: ignore[arg-type]

    def job(self) -> Job:
        return self.jobs.get_job(self.job_id)

    # ------------------------------------------------------------------ rules

    def started(self, arn: str, *, deliver: bool, pause: int | None) -> None:
        self.claims_started += 1
        self.run(arn, deliver=deliver, pause=pause)

    def latest(self) -> Execution | None:
        return self.executions.executions.get(self.job().latest_execution or "")

    @initialize(
        disabled=st.lists(st.sampled_from([s.name for s in CATALOGUE]), max_size=2, unique=True),
        faults=st.lists(FAULTS, min_size=1, max_size=3),
        deliver=st.booleans(),
        pause=PAUSES,
    )
    def submit(
        self, disabled: list[str], faults: list[FaultSpec], deliver: bool, pause: int | None
    ) -> None:
        for fault in faults:
            self.platform.add_fault(fault)
        job = make_job(RESTAURANT_NAMES[0], org_id=ORG)
        self.jobs.put_job(job)
        self.job_id = job.job_id
        config = ExecutionConfigInput.model_validate(
            config_data(job.restaurant.name, steps_enabled=dict.fromkeys(disabled, False))
        )
        started = submit_step5(self.jobs, self.secrets, self.executions, job, config)  # type: ignore[arg-type]
        self.started(started.execution_arn, deliver=deliver, pause=pause)

    @rule(fault=FAULTS)
    def inject_fault(self, fault: FaultSpec) -> None:
        self.platform.add_fault(fault)

    @rule(deliver=st.booleans(), pause=PAUSES)
    def resume(self, deliver: bool, pause: int | None) -> None:
        try:
            started = resume_job(self.jobs, self.executions, self.job())  # type: ignore[arg-type]
        except (errors.NotResumableError, ConflictError):
            return
        event(f"resume from {started.resume_from}")
        self.started(started.execution_arn, deliver=deliver, pause=pause)

    @rule(deliver=st.booleans(), pause=PAUSES)
    def advance(self, deliver: bool, pause: int | None) -> None:
        """The state machine goes on with a run left half-way."""
        execution = self.latest()
        if execution is None or execution.status != "RUNNING" or execution.cursor is None:
            return
        self.run(execution.arn, deliver=deliver, pause=pause)

    @rule(deliver=st.booleans())
    def redrive(self, deliver: bool) -> None:
        """Re-run the latest execution from the state it failed in, same ARN (console redrive)."""
        execution = self.latest()
        if execution is None or execution.status != "FAILED":
            return  # only a failed execution can be redriven
        if execution.failed_state not in PHASE_NAMES:
            return  # not a state these histories fail in
        event("redrive")
        self.redrives += 1
        self.run(execution.arn, from_state=execution.failed_state, deliver=deliver)

    @rule()
    def read(self) -> None:
        """A read of the job reconciles an execution whose event was lost."""
        reconcile_stale(self.jobs, self.executions, self.job())  # type: ignore[arg-type]

    @rule(deliver=st.booleans())
    def cancel(self, deliver: bool) -> None:
        # given the job as a read finds it (a run still holds it, or none does)
        job = reconcile_stale(self.jobs, self.executions, self.job())  # type: ignore[arg-type]
        holder = self.executions.executions.get(job.active_execution or "")
        # when the operator cancels
        if holder is None:
            # then there is nothing to cancel
            with pytest.raises(errors.NotRunningError):
                cancel_run(self.jobs, self.executions, ORG, self.job_id, actor=ACTOR)  # type: ignore[arg-type]
            return
        assert holder.status == "RUNNING", "a settled execution still holds the job"
        arn = cancel_run(self.jobs, self.executions, ORG, self.job_id, actor=ACTOR)  # type: ignore[arg-type]
        # then the run is stopped, and settles aborted, resumable, once its end is known
        assert arn == holder.arn and holder.status == "ABORTED"
        holder.cursor = None
        event(f"cancel (event {'delivered' if deliver else 'lost'})")
        self.settled(arn, deliver=deliver)
        job = reconcile_stale(self.jobs, self.executions, self.job())  # type: ignore[arg-type]
        assert job.active_execution is None
        assert all(s.status != SubStepStatus.IN_PROGRESS for s in _statuses(job).values())
        if resume_point(job.execution_config, job.step6_progress) is None:
            # the run had done every phase: stopping it leaves Step 6 done, not stuck
            assert job.status == StepStatus.COMPLETED, job.status
            assert not details(job).resumable
            return
        assert job.status == StepStatus.ACTION_REQUIRED, job.status
        assert job.last_failure is not None and job.last_failure.error_code == ErrorCode.ABORTED
        assert details(job).resumable

    @rule(change=AMENDMENTS)
    def amend(self, change: tuple[str, Any]) -> None:
        path, value = change
        job = reconcile_stale(self.jobs, self.executions, self.job())  # type: ignore[arg-type]
        config = job.execution_config
        assert config is not None
        changed = _stored(config, path) != value
        used = _readers(path) & _used(job) if changed else set()
        # when the operator changes one field
        call = lambda: amend_config(  # noqa: E731
            self.jobs,  # type: ignore[arg-type]
            self.secrets,
            self.executions,  # type: ignore[arg-type]
            ORG,
            self.job_id,
            _amendment(path, value),
            actor=ACTOR,
        )
        if job.active_execution is not None:
            # then it waits for the run to end
            with pytest.raises(ConflictError):
                call()
            return
        if used:
            # then a field a completed sub-step read cannot change
            with pytest.raises(errors.ConfigInUseError):
                call()
            event("amend refused: in use")
            assert self.job().execution_config == config
            return
        call()
        # then any other field takes the new value, and nothing else changes
        event(f"amend {path}" if changed else "amend: no change")
        after = self.job()
        assert after.execution_config is not None
        assert _stored(after.execution_config, path) == value
        assert after.step6_progress == job.step6_progress and after.status == job.status

    @rule(
        names=st.lists(
            st.sampled_from([*(s.name for s in CATALOGUE), "noSuchStep"]),
            min_size=0,
            max_size=3,
            unique=True,
        ),
        deliver=st.booleans(),
        pause=PAUSES,
    )
    def rerun(self, names: list[str], deliver: bool, pause: int | None) -> None:
        def call() -> Any:
            return rerun(self.jobs, self.executions, ORG, self.job_id, names, actor=ACTOR)  # type: ignore[arg-type]

        # when the operator asks for some sub-steps to be run again
        if not names or "noSuchStep" in names:
            # then a request naming nothing, or an unknown sub-step, is refused as it stands
            with pytest.raises(errors.InvalidRequestError):
                call()
            return
        job = reconcile_stale(self.jobs, self.executions, self.job())  # type: ignore[arg-type]
        statuses = {n: sub.status for n, sub in _statuses(job).items()}
        completed = {n for n, status in statuses.items() if status == SubStepStatus.COMPLETED}
        closure = set(names).union(*(dependents_of(n) for n in names))
        expected: type[Exception] | None = None
        if job.active_execution is not None:
            expected = ConflictError
        elif any(not SUB_STEPS[n].rerunnable for n in closure & completed):
            # then an effect that must exist once is never asked for again
            expected = errors.NotRerunnableError
        elif not set(names) <= completed:
            # then only a completed sub-step can be run again
            expected = errors.NotCompletedError
        if expected is not None:
            with pytest.raises(expected):
                call()
            event(f"rerun refused: {expected.__name__}")
            return
        started, reset = call()
        # then the sub-steps and everything that depends on them are pending again, and each
        # completed one is asked to take effect once more (a new key generation)
        assert set(reset) == closure
        event(f"rerun of {len(reset)} sub-steps")
        for name in closure & completed:
            self.requested[name] += 1
        for name in closure:
            self.seen_outputs.pop(name, None)
            self.operator_skipped.discard(name)
        after = _statuses(self.job())
        assert all(after[n].status == SubStepStatus.PENDING for n in closure)
        self.started(started.execution_arn, deliver=deliver, pause=pause)

    @rule(name=st.sampled_from([s.name for s in CATALOGUE]))
    def skip(self, name: str) -> None:
        def call() -> Any:
            return skip_sub_step(
                self.jobs,  # type: ignore[arg-type]
                self.executions,  # type: ignore[arg-type]
                ORG,
                self.job_id,
                name,
                "accepted without it",
                actor=ACTOR,
            )

        # when the operator accepts a sub-step as skipped
        if SUB_STEPS[name].blocking:
            # then a blocking one is refused: the job cannot go on without it
            with pytest.raises(errors.BlockingSubStepError):
                call()
            return
        job = reconcile_stale(self.jobs, self.executions, self.job())  # type: ignore[arg-type]
        if job.active_execution is not None:
            with pytest.raises(ConflictError):
                call()
            return
        sub = _statuses(job).get(name, SubStepProgress())
        skippable = sub.status == SubStepStatus.FAILED or (
            sub.status == SubStepStatus.SKIPPED and sub.skip_reason == SkipReason.DEPENDENCY_NOT_MET
        )
        if not skippable:
            # then only a failed (or dependency-skipped) one can be
            with pytest.raises(errors.NotFailedError):
                call()
            return
        result = call()
        # then it is skipped for good; with nothing left, Step 6 is complete
        event("operator skip")
        self.operator_skipped.add(name)
        after = result.job
        assert _statuses(after)[name].skip_reason == SkipReason.OPERATOR
        if resume_point(after.execution_config, after.step6_progress) is None:
            assert after.status == StepStatus.COMPLETED and not result.resumable

    # ------------------------------------------------------------------ invariants

    @invariant()
    def no_unrequested_repeated_effect(self) -> None:
        if not self.job_id:
            return
        ledger = self.platform.effects_for(self.job_id)
        assert all(e.count == 1 for e in ledger), ledger
        per_sub_step = Counter(e.sub_step for e in ledger)
        for name, effects in per_sub_step.items():
            assert effects <= 1 + self.requested[name], (name, ledger)
        assert len({e.idempotency_key for e in ledger}) == len(ledger), ledger

    @invariant()
    def completed_stays_completed(self) -> None:
        if not self.job_id:
            return
        for name, sub in _statuses(self.job()).items():
            assert sub.attempts >= self.seen_attempts.get(name, 0), name
            self.seen_attempts[name] = sub.attempts
            # a new key generation only when a re-run asked for the effect once more
            assert sub.generation == self.requested[name], name
            if name in self.seen_outputs:
                assert sub.status == SubStepStatus.COMPLETED, name
                assert sub.output == self.seen_outputs[name], name
            elif sub.status == SubStepStatus.COMPLETED:
                self.seen_outputs[name] = sub.output

    @invariant()
    def operator_skips_are_final(self) -> None:
        if not self.job_id:
            return
        subs = _statuses(self.job())
        for name in self.operator_skipped:
            assert subs[name].status == SubStepStatus.SKIPPED, name
            assert subs[name].skip_reason == SkipReason.OPERATOR, name

    @invariant()
    def the_batch_counts_the_job_once_where_it_stands(self) -> None:
        if not self.job_id:
            return
        job = self.job()
        counted = {key: n for key, n in self.jobs.tallies.items() if n}
        assert counted == {(job.batch_id, tally_of(job.status, job.steps)): 1}

    @invariant()
    def the_runs_history_has_a_row_per_claim(self) -> None:
        if not self.job_id:
            return
        job = self.job()
        runs = self.jobs.list_runs(self.job_id)
        assert self.claims_started <= job.runs_recorded <= self.claims_started + self.redrives
        newest_first = list(range(job.runs_recorded, 0, -1))[:RUNS_KEPT]
        assert [r.run for r in runs] == newest_first
        for row in runs[1:]:
            assert row.status != "running" and row.ended_at is not None, row
        if runs and job.active_execution is None:
            assert runs[0].status != "running" and runs[0].ended_at is not None, runs[0]
        if job.active_execution is not None:
            assert runs[0].execution_arn == job.active_execution and runs[0].ended_at is None

    @invariant()
    def the_password_is_kept_while_a_sub_step_may_read_it(self) -> None:
        if not self.job_id:
            return
        job = self.job()
        config = job.execution_config
        assert config is not None
        ref = config.account.password_secret_ref
        if not all(is_settled(s, config, job.step6_progress) for s in PASSWORD_READERS):
            assert ref is not None and ref in self.secrets.secrets
        if ref is None:
            # a reference is cleared only after its secret was deleted: nothing is orphaned
            assert self.secrets.secrets == {} and config.account.password_deleted_at is not None

    @invariant()
    def a_settled_job_resumes_where_work_is_left(self) -> None:
        if not self.job_id:
            return
        job = self.job()
        if job.active_execution is not None:
            return
        progress, config = job.step6_progress, job.execution_config
        assert config is not None
        assert all(sub.status != SubStepStatus.IN_PROGRESS for sub in _statuses(job).values())
        point = resume_point(config, progress)
        # resumable exactly when work is left
        assert waits_for_resume(job)
        assert details(job).resumable == (point is not None)
        before = PHASE_NAMES if point is None else PHASE_NAMES[: PHASE_NAMES.index(point)]
        for phase in before:
            assert plan_phase(phase, config, progress).run == (), phase
        context = reconstruct_context(progress)
        for phase in PHASE_NAMES:
            plan = plan_phase(phase, config, progress)
            for name in plan.run:
                sub = progress.phases[phase].sub_steps[name]
                assert sub.status != SubStepStatus.COMPLETED
                assert name not in self.operator_skipped
                if not plan.waits_for.get(name):
                    for needed in CONTEXT_NEEDS.get(name, ()):
                        assert context.get(needed) is not None, (name, needed)
        # Step 6 completed with errors exactly when a phase did
        if job.status == StepStatus.COMPLETED:
            with_errors = any(
                s == PhaseStatus.COMPLETED_WITH_ERRORS
                for s in phase_statuses(config, progress).values()
            )
            expected = StepStatus.COMPLETED_WITH_ERRORS if with_errors else StepStatus.COMPLETED
            assert job.step(6).status == expected

    def teardown(self) -> None:
        if not self.job_id:
            return
        # the platform recovers: a run left half-way ends, reads and resumes finish the job
        self.platform.clear_faults()
        self.advance(deliver=True, pause=None)
        # EventBridge delivers at least once, retrying: a lost event arrives in the end (the
        # reconciler is idempotent; it also deletes a password no sub-step can read any more).
        for arn, execution in self.executions.executions.items():
            if execution.status != "RUNNING":
                self.deliver(arn)
        for _ in range(4):
            self.read()
            if (
                self.job().status == StepStatus.COMPLETED
                and resume_point(self.job().execution_config, self.job().step6_progress) is None
            ):
                break
            self.resume(deliver=True, pause=None)
        job = self.job()
        event(f"converged after {len(self.executions.started)} runs")
        assert job.status == StepStatus.COMPLETED and job.active_execution is None
        assert resume_point(job.execution_config, job.step6_progress) is None
        config = job.execution_config
        assert config is not None
        expected = reference_outputs(job)
        subs = _statuses(job)
        completed = {n for n, sub in subs.items() if sub.status == SubStepStatus.COMPLETED}
        can_run = {
            s.name for s in CATALOGUE if s.enabled(config) and disabled_ancestor(s, config) is None
        }
        # every sub-step that can run completed, but those an operator skipped, and theirs
        skipped = can_run - completed
        for name in skipped:
            assert subs[name].status == SubStepStatus.SKIPPED, name
            assert (
                name in self.operator_skipped
                or any(dep in self.operator_skipped for dep in SUB_STEPS[name].depends_on)
                or subs[name].skip_reason == SkipReason.DEPENDENCY_NOT_MET
            ), name
        assert completed <= can_run
        # with the outputs of an uninterrupted run (a re-run one has new ids: a new key)
        for name in completed:
            if self.requested[name] == 0:
                assert subs[name].output == expected[name], name
        # each effect once, and once more per re-run asked for
        effects = Counter(e.sub_step for e in self.platform.effects_for(self.job_id))
        for name in completed:
            assert effects[name] == 1 + self.requested[name], name
        # and the completed job's password is deleted, its reference gone
        assert config.account.password_secret_ref is None and self.secrets.secrets == {}


Step6Histories.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=10,
    deadline=None,
    # no explain phase: it replays each failure hundreds of times (minutes), the shrunk
    # history is what tells the story
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)
TestStep6Histories = Step6Histories.TestCase


# ---------------------------------------------------------------------- histories it found


def _no_fault(sub_step: str = "codeGeneration") -> list[FaultSpec]:
    return [FaultSpec(sub_step=sub_step, mode="transient", times=1)]


def test_a_run_cancelled_after_its_last_phase_leaves_the_job_finishable() -> None:
    # given a run that has done every phase but not yet CompleteRun
    state = Step6Histories()
    state.submit(disabled=[], faults=_no_fault(), deliver=True, pause=1 + len(PHASE_NAMES))
    assert resume_point(state.job().execution_config, state.job().step6_progress) is None
    # when the operator cancels it
    state.cancel(deliver=True)  # asserts how the job settles
    # then the job is finished (it is not stuck in action_required)
    assert state.job().status == StepStatus.COMPLETED
    state.teardown()


def test_re_enabling_the_account_after_its_password_was_discarded_needs_a_new_password() -> None:
    # given a job run without its account sub-step: its password was deleted as unneeded
    state = Step6Histories()
    state.submit(disabled=["cloudwaitressAccount"], faults=_no_fault(), deliver=True, pause=None)
    assert state.job().execution_config.account.password_secret_ref is None  # type: ignore[union-attr]
    # when the operator enables the account sub-step again without giving a password
    # then either the amendment is refused (a password is required), or the job finishes
    try:
        state.amend(("steps_enabled.cloudwaitressAccount", True))
    except errors.InvalidRequestError:
        return
    state.the_password_is_kept_while_a_sub_step_may_read_it()
    state.teardown()


def test_enabling_a_sub_step_of_a_completed_job_keeps_step6_consistent() -> None:
    # given a completed job run with codeGeneration disabled
    state = Step6Histories()
    state.submit(
        disabled=["codeGeneration"], faults=_no_fault("menuImport"), deliver=True, pause=None
    )
    assert state.job().step(6).status == StepStatus.COMPLETED
    # when the operator enables codeGeneration
    state.amend(("steps_enabled.codeGeneration", True))
    # then Step 6's status agrees with its phases' (completed_with_errors iff a phase is)
    state.a_settled_job_resumes_where_work_is_left()
