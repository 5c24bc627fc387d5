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

from dataclasses import dataclass
from typing import Any

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from clients.simulator import FaultSpec, PlatformSimulator, SimulatedCrash
from domain.catalogue import CATALOGUE, CONTEXT_NEEDS
from domain.context import reconstruct_context
from domain.deps import Step6Deps
from domain.errors import NotResumableError
from domain.onboarding import ExecutionConfigInput, submit_step5
from domain.outcome import ExecutionStatus
from domain.passwords import PASSWORD_READERS, discard_spent_password
from domain.phase_tasks import complete_run, prepare_run, run_phase
from domain.planner import disabled_ancestor, is_settled, plan_phase
from domain.resume import resume_point
from domain.runner import RetryPolicy
from domain.runs import resume_job
from domain.settlement import reconcile_stale, settle_execution
from local.samples import RESTAURANT_NAMES, config_data
from state.errors import ConflictError
from state.models import PHASE_NAMES, Job, StepStatus, SubStepStatus
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


@dataclass
class Execution:
    arn: str
    payload: dict[str, Any]
    status: str = "RUNNING"
    failed_state: str | None = None
    cause: str | None = None


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

    # ------------------------------------------------------------------ the state machine's part

    def run(self, arn: str, *, from_state: str | None = None, deliver: bool = True) -> None:
        """Run an execution (from PrepareRun, or a redrive from `from_state`) to its end."""
        execution = self.executions.executions[arn]
        execution.status, execution.cause = "RUNNING", None
        try:
            if from_state is None:
                execution.failed_state = "PrepareRun"
                prepare_run(self.jobs, self.job_id, arn, execution.payload.get("resume_from"))  # type: ignore[arg-type]
                first = execution.payload.get("resume_from", "phase1")
            else:
                first = from_state
            for phase in PHASE_NAMES[PHASE_NAMES.index(first) :]:
                execution.failed_state = phase
                run_phase(self.deps, self.job_id, phase, arn)
            execution.failed_state = "CompleteRun"
            complete_run(self.jobs, self.secrets, self.job_id, arn)  # type: ignore[arg-type]
            execution.status, execution.failed_state = "SUCCEEDED", None
        except SimulatedCrash as crash:
            execution.status, execution.cause = "FAILED", f"Runtime.ExitError {crash}"
        except Exception as error:  # noqa: BLE001 - a task error fails the execution
            execution.status, execution.cause = "FAILED", f"{type(error).__name__} {error}"
        event(f"execution {execution.status} at {execution.failed_state or 'the end'}")
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

    @initialize(
        disabled=st.lists(st.sampled_from([s.name for s in CATALOGUE]), max_size=2, unique=True),
        faults=st.lists(FAULTS, min_size=1, max_size=3),
        deliver=st.booleans(),
    )
    def submit(self, disabled: list[str], faults: list[FaultSpec], deliver: bool) -> None:
        for fault in faults:
            self.platform.add_fault(fault)
        job = make_job(RESTAURANT_NAMES[0])
        self.jobs.put_job(job)
        self.job_id = job.job_id
        config = ExecutionConfigInput.model_validate(
            config_data(job.restaurant.name, steps_enabled=dict.fromkeys(disabled, False))
        )
        started = submit_step5(self.jobs, self.secrets, self.executions, job, config)  # type: ignore[arg-type]
        self.run(started.execution_arn, deliver=deliver)

    @rule(fault=FAULTS)
    def inject_fault(self, fault: FaultSpec) -> None:
        self.platform.add_fault(fault)

    @rule(deliver=st.booleans())
    def resume(self, deliver: bool) -> None:
        try:
            started = resume_job(self.jobs, self.executions, self.job())  # type: ignore[arg-type]
        except (NotResumableError, ConflictError):
            return
        event(f"resume from {started.resume_from}")
        self.run(started.execution_arn, deliver=deliver)

    @rule(deliver=st.booleans())
    def redrive(self, deliver: bool) -> None:
        """Re-run the latest execution from the state it failed in, same ARN (console redrive)."""
        arn = self.job().latest_execution
        execution = self.executions.executions.get(arn or "")
        if execution is None or execution.status != "FAILED":
            return  # only a failed execution can be redriven
        if execution.failed_state not in PHASE_NAMES:
            return  # not a state these histories fail in
        event("redrive")
        self.run(execution.arn, from_state=execution.failed_state, deliver=deliver)

    @rule()
    def read(self) -> None:
        """A read of the job reconciles an execution whose event was lost."""
        reconcile_stale(self.jobs, self.executions, self.job())  # type: ignore[arg-type]

    # ------------------------------------------------------------------ invariants

    @invariant()
    def each_effect_at_most_once(self) -> None:
        if not self.job_id:
            return
        ledger = self.platform.effects_for(self.job_id)
        assert all(e.count == 1 for e in ledger), ledger
        assert len({e.sub_step for e in ledger}) == len(ledger), ledger

    @invariant()
    def completed_stays_completed(self) -> None:
        if not self.job_id:
            return
        for phase in self.job().step6_progress.phases.values():
            for name, sub in phase.sub_steps.items():
                assert sub.attempts >= self.seen_attempts.get(name, 0), name
                self.seen_attempts[name] = sub.attempts
                if name in self.seen_outputs:
                    assert sub.status == SubStepStatus.COMPLETED, name
                    assert sub.output == self.seen_outputs[name], name
                elif sub.status == SubStepStatus.COMPLETED:
                    self.seen_outputs[name] = sub.output

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
        assert all(
            sub.status != SubStepStatus.IN_PROGRESS
            for phase in progress.phases.values()
            for sub in phase.sub_steps.values()
        )
        point = resume_point(config, progress)
        before = PHASE_NAMES if point is None else PHASE_NAMES[: PHASE_NAMES.index(point)]
        for phase in before:
            assert plan_phase(phase, config, progress).run == (), phase
        context = reconstruct_context(progress)
        for phase in PHASE_NAMES:
            plan = plan_phase(phase, config, progress)
            for name in plan.run:
                sub = progress.phases[phase].sub_steps[name]
                assert sub.status != SubStepStatus.COMPLETED
                if not plan.waits_for.get(name):
                    for needed in CONTEXT_NEEDS.get(name, ()):
                        assert context.get(needed) is not None, (name, needed)

    def teardown(self) -> None:
        if not self.job_id:
            return
        # the platform recovers: reads and resumes must finish the job
        self.platform.clear_faults()
        for _ in range(4):
            self.read()
            if (
                self.job().status == StepStatus.COMPLETED
                and resume_point(self.job().execution_config, self.job().step6_progress) is None
            ):
                break
            self.resume(deliver=True)
        job = self.job()
        event(f"converged after {len(self.executions.started)} runs")
        assert job.status == StepStatus.COMPLETED and job.active_execution is None
        assert resume_point(job.execution_config, job.step6_progress) is None
        config = job.execution_config
        assert config is not None
        expected = reference_outputs(job)
        completed = {
            name: sub.output
            for phase in job.step6_progress.phases.values()
            for name, sub in phase.sub_steps.items()
            if sub.status == SubStepStatus.COMPLETED
        }
        assert completed == expected
        can_run = {
            s.name for s in CATALOGUE if s.enabled(config) and disabled_ancestor(s, config) is None
        }
        assert set(completed) == can_run
        ledger = self.platform.effects_for(self.job_id)
        assert {e.sub_step: e.count for e in ledger} == dict.fromkeys(can_run, 1)
        # and the completed job's password is deleted, its reference gone
        assert config.account.password_secret_ref is None and self.secrets.secrets == {}


Step6Histories.TestCase.settings = settings(max_examples=100, stateful_step_count=10, deadline=None)
TestStep6Histories = Step6Histories.TestCase
