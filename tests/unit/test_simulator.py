"""The platform simulator: idempotency, the ledger, faults, determinism, thread safety."""

from __future__ import annotations

import pickle
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from pydantic import ValidationError

from clients import simulator as simulator_module
from clients.platform import (
    CallMeta,
    PermanentPlatformError,
    PlatformError,
    PlatformResult,
    TransientPlatformError,
)
from clients.simulator import (
    FaultSpec,
    PlatformSimulator,
    SimulatedCrash,
    shared_simulator,
)
from tests.unit.fakes import make_meta


@pytest.fixture
def sim() -> PlatformSimulator:
    return PlatformSimulator()


def onboarding_call(
    sim: PlatformSimulator, job_id: str = "job-1", restaurant: str = "Cafe Aroha"
) -> PlatformResult:
    meta = make_meta(job_id, "createOnboardingUser", restaurant)
    return sim.create_onboarding_user(meta, email="owner@aroha.example", name=restaurant)


def create_account(
    sim: PlatformSimulator, job_id: str = "job-1", email: str = "owner@aroha.example"
) -> PlatformResult:
    meta = make_meta(job_id, "cloudwaitressAccount")
    return sim.create_account(meta, email=email, password="S3cure-pass-123", name="Cafe Aroha")


def register_restaurant(sim: PlatformSimulator, name: str = "Cafe Aroha") -> PlatformResult:
    """A restaurant registered for a new account (job-1)."""
    account = create_account(sim)
    meta = make_meta("job-1", "restaurantRegistration")
    return sim.register_restaurant(meta, account_id=account.id, name=name, phone=None, company={})


class ArnKeyedMeta(CallMeta):
    """A caller that (wrongly) keys its calls by execution: a new key on every run."""

    execution: str

    @property
    def idempotency_key(self) -> str:
        return f"{self.execution}:{self.sub_step}"


# ------------------------------------------------------------------ idempotency and ledger


def test_a_repeated_call_with_the_same_key_takes_effect_once(sim: PlatformSimulator) -> None:
    # Given a first call that took effect
    first = onboarding_call(sim)

    # When the same call is made again with the same key
    second = onboarding_call(sim)

    # Then the stored result comes back and the ledger shows one effect asked for twice
    assert second == first
    [entry] = sim.ledger()
    assert entry.model_dump() == {
        "job_id": "job-1",
        "sub_step": "createOnboardingUser",
        "idempotency_key": "job-1:createOnboardingUser",
        "operation": "create_onboarding_user",
        "restaurant": "Cafe Aroha",
        "count": 1,
        "calls": 2,
        "object_id": first.id,
    }
    assert len(sim.objects("onboarding_user")) == 1


def test_an_effect_repeated_under_another_key_is_a_second_entry_for_the_job(
    sim: PlatformSimulator,
) -> None:
    # Given two runs of one job whose caller keys by execution instead of by job
    for execution in ("exec-1", "exec-2"):
        meta = ArnKeyedMeta(
            job_id="job-1",
            sub_step="createOnboardingUser",
            restaurant_name="Cafe Aroha",
            execution=execution,
        )
        sim.create_onboarding_user(meta, email="owner@aroha.example", name="Cafe Aroha")

    # Then the ledger shows the duplicate: two effects for the same job and sub-step
    entries = sim.effects_for("job-1")
    assert [(e.job_id, e.sub_step, e.count) for e in entries] == [
        ("job-1", "createOnboardingUser", 1),
        ("job-1", "createOnboardingUser", 1),
    ]
    assert entries[0].object_id != entries[1].object_id
    assert {o.job_id for o in sim.objects("onboarding_user")} == {"job-1"}


def test_ignoring_idempotency_shows_up_as_a_count_above_one() -> None:
    # Given a simulator that takes every call into effect (how a test catches duplicates)
    careless = PlatformSimulator(honour_idempotency=False)

    # When the same call is made twice
    first = onboarding_call(careless)
    second = onboarding_call(careless)

    # Then two objects exist and the entry counts two effects
    assert first.id != second.id
    [entry] = careless.ledger()
    assert (entry.count, entry.calls) == (2, 2)


def test_find_account_is_a_read_that_finds_accounts_by_email(sim: PlatformSimulator) -> None:
    # Given no account, then an account created for an email
    meta = make_meta("job-2", "cloudwaitressAccount")
    assert sim.find_account(meta, email="owner@aroha.example") is None
    created = create_account(sim)

    # When another job looks the email up, in another case
    found = sim.find_account(meta, email=" Owner@Aroha.example ")

    # Then it finds the account, with its external reference, and the read leaves no trace
    assert found is not None
    assert found.id == created.id
    assert found.attributes["external_reference"] == "job-1"
    assert "password" not in found.attributes
    assert [e.operation for e in sim.ledger()] == ["create_account"]


def test_creating_an_account_for_a_taken_email_is_a_conflict(sim: PlatformSimulator) -> None:
    # Given an account created by one job
    create_account(sim, "job-1")

    # When another job creates one for the same email
    # Then the platform refuses, permanently, and nothing more happens
    with pytest.raises(PermanentPlatformError, match="already exists"):
        create_account(sim, "job-2")
    assert len(sim.ledger()) == 1


def test_a_key_reused_for_another_operation_is_refused(sim: PlatformSimulator) -> None:
    # Given an effect under a key
    meta = make_meta("job-1", "createOnboardingUser")
    sim.create_onboarding_user(meta, email="a@b.example", name="A")

    # When the same key is used for a different operation
    # Then it is a permanent error
    with pytest.raises(PermanentPlatformError, match="idempotency key"):
        sim.upload_images(meta, menu_id="m-1", image_urls=[])


def test_concurrent_calls_with_one_key_take_effect_once(sim: PlatformSimulator) -> None:
    # Given eight threads that start the same call at the same moment
    barrier = threading.Barrier(8)

    def call(_: int) -> str:
        barrier.wait()
        return onboarding_call(sim).id

    # When they all call
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(call, range(8)))

    # Then they all get the one object, and the ledger counts one effect and eight calls
    assert len(ids) == 1
    [entry] = sim.ledger()
    assert (entry.count, entry.calls) == (1, 8)


def test_ids_are_deterministic_whatever_the_order_of_calls() -> None:
    # Given two simulators receiving the same calls in opposite orders
    jobs = ["job-a", "job-b", "job-c"]
    forward, backward = PlatformSimulator(), PlatformSimulator()
    ids_forward = {job: onboarding_call(forward, job).id for job in jobs}
    ids_backward = {job: onboarding_call(backward, job).id for job in reversed(jobs)}

    # Then every job's object has the same id in both
    assert ids_forward == ids_backward
    assert len(set(ids_forward.values())) == 3


def test_effects_for_and_reset(sim: PlatformSimulator) -> None:
    # Given effects for two jobs and an active fault
    onboarding_call(sim, "job-1")
    onboarding_call(sim, "job-2")
    sim.add_fault(FaultSpec(sub_step="x", mode="fail"))
    sim.set_latency(5)

    # Then effects_for filters by job
    assert [e.job_id for e in sim.effects_for("job-2")] == ["job-2"]

    # When the simulator is reset, everything is forgotten
    sim.reset()
    assert sim.ledger() == []
    assert sim.faults() == []
    assert sim.objects() == []


def test_shared_simulator_is_one_instance() -> None:
    assert shared_simulator() is shared_simulator()


# ------------------------------------------------------------------ references


def test_references_to_unknown_objects_are_refused(sim: PlatformSimulator) -> None:
    meta = make_meta("job-1", "restaurantRegistration")
    with pytest.raises(PermanentPlatformError, match=r"not found \(404\): no such account"):
        sim.register_restaurant(
            meta, account_id="acct-missing", name="A", phone=None, company={"name": "A Ltd"}
        )
    assert sim.ledger() == []


def test_reference_checks_can_be_turned_off() -> None:
    lenient = PlatformSimulator(check_references=False)
    meta = make_meta("job-1", "restaurantRegistration")
    result = lenient.register_restaurant(
        meta, account_id="acct-anything", name="A", phone=None, company={}
    )
    assert result.id.startswith("rest_")


def test_option_sets_must_name_items_of_the_import(sim: PlatformSimulator) -> None:
    # Given an account, a restaurant and a menu import with one item
    restaurant = register_restaurant(sim)
    imported = sim.import_menu(
        make_meta("job-1", "menuImport"),
        restaurant_id=restaurant.id,
        menu_import={
            "menu_id": "m-1",
            "format": "pumpd-menu-import/v1",
            "categories": [{"external_id": "coffee", "items": [{"external_id": "coffee.latte"}]}],
        },
    )

    # When option sets name an item the import does not have
    # Then the platform refuses; with known items it accepts
    with pytest.raises(PermanentPlatformError, match=r"coffee\.mocha"):
        sim.create_option_sets(
            make_meta("job-1", "optionSets"),
            restaurant_id=restaurant.id,
            menu_import_id=imported.id,
            option_sets=[{"name": "Milk", "item_external_ids": ["coffee.mocha"]}],
        )
    result = sim.create_option_sets(
        make_meta("job-1", "optionSets"),
        restaurant_id=restaurant.id,
        menu_import_id=imported.id,
        option_sets=[{"name": "Milk", "item_external_ids": ["coffee.latte"]}],
    )
    assert result.attributes["count"] == 1


def test_menu_import_needs_the_v1_format(sim: PlatformSimulator) -> None:
    # Given a registered restaurant
    restaurant = register_restaurant(sim, name="A")
    # When its menu import is not in the v1 format, then the platform refuses it
    with pytest.raises(PermanentPlatformError, match="unsupported format"):
        sim.import_menu(
            make_meta("job-1", "menuImport"),
            restaurant_id=restaurant.id,
            menu_import={"format": "v0", "categories": []},
        )


# ------------------------------------------------------------------ faults


def test_fail_raises_a_permanent_error_for_times_calls_with_no_effect(
    sim: PlatformSimulator,
) -> None:
    # Given a fail fault for two calls
    sim.add_fault(FaultSpec(sub_step="createOnboardingUser", mode="fail", times=2))

    # When the sub-step calls three times
    for _ in range(2):
        with pytest.raises(PermanentPlatformError, match="simulated fail"):
            onboarding_call(sim)
    result = onboarding_call(sim)

    # Then the first two had no effect and the third took effect once
    [entry] = sim.ledger()
    assert (entry.count, entry.calls, entry.object_id) == (1, 3, result.id)
    assert sim.faults() == []


def test_transient_succeeds_on_a_later_try(sim: PlatformSimulator) -> None:
    # Given a transient fault for two calls
    sim.add_fault(FaultSpec(sub_step="createOnboardingUser", mode="transient", times=2))

    # When the caller retries until it succeeds
    attempts = 0
    while True:
        attempts += 1
        try:
            onboarding_call(sim)
            break
        except TransientPlatformError:
            continue

    # Then the third try succeeded, with one effect
    assert attempts == 3
    [entry] = sim.ledger()
    assert (entry.count, entry.calls) == (1, 3)


def test_crash_before_dies_before_any_effect(sim: PlatformSimulator) -> None:
    sim.add_fault(FaultSpec(sub_step="createOnboardingUser", mode="crash_before"))

    with pytest.raises(SimulatedCrash) as crash:
        onboarding_call(sim)

    assert crash.value.mode == "crash_before"
    assert crash.value.sub_step == "createOnboardingUser"
    assert sim.ledger() == []
    assert sim.objects() == []


def test_crash_after_leaves_the_effect_and_a_retry_gets_the_same_object(
    sim: PlatformSimulator,
) -> None:
    # Given a crash right after the call took effect
    sim.add_fault(FaultSpec(sub_step="createOnboardingUser", mode="crash_after"))
    with pytest.raises(SimulatedCrash) as crash:
        onboarding_call(sim)
    assert crash.value.mode == "crash_after"
    [entry] = sim.ledger()
    assert entry.count == 1

    # When the resumed run repeats the call with the same key
    result = onboarding_call(sim)

    # Then it gets the object the crashed call made, without a new effect
    assert result.id == entry.object_id
    [after] = sim.ledger()
    assert (after.count, after.calls) == (1, 2)


def test_simulated_crash_escapes_except_exception(sim: PlatformSimulator) -> None:
    # Given a crash fault and a handler that catches every ordinary error
    sim.add_fault(FaultSpec(sub_step="createOnboardingUser", mode="crash_before"))
    caught: list[BaseException] = []

    def runner_like() -> None:
        try:
            onboarding_call(sim)
        except Exception as error:  # noqa: BLE001 - exactly what the test is about
            caught.append(error)

    # Then the crash goes through it, as a dying process would
    with pytest.raises(SimulatedCrash):
        runner_like()
    assert caught == []
    assert not issubclass(SimulatedCrash, Exception)
    assert not issubclass(SimulatedCrash, PlatformError)


def test_reads_are_faulted_except_by_crash_after(sim: PlatformSimulator) -> None:
    meta = make_meta("job-1", "cloudwaitressAccount")
    # Given a crash_after fault: a read has no effect to crash after, so it is left alone
    sim.add_fault(FaultSpec(sub_step="cloudwaitressAccount", mode="crash_after"))
    assert sim.find_account(meta, email="owner@aroha.example") is None
    assert sim.faults()[0].times == 1

    # And given a fail fault: the read fails
    sim.clear_faults()
    sim.add_fault(FaultSpec(sub_step="cloudwaitressAccount", mode="fail"))
    with pytest.raises(PermanentPlatformError):
        sim.find_account(meta, email="owner@aroha.example")


@pytest.mark.parametrize(
    ("fault", "affected"),
    [
        pytest.param({"restaurant": "Kai Kitchen"}, {"Kai Kitchen"}, id="restaurant"),
        pytest.param({"job_id": "job-2"}, {"Kai Kitchen"}, id="job"),
        pytest.param({}, {"Cafe Aroha", "Kai Kitchen"}, id="no-filter"),
    ],
)
def test_filters_decide_which_calls_a_fault_hits(
    sim: PlatformSimulator, fault: dict[str, Any], affected: set[str]
) -> None:
    # Given a fault with plenty of uses, restricted by the filter
    sim.add_fault(FaultSpec(sub_step="createOnboardingUser", mode="fail", times=5, **fault))

    # When two restaurants' jobs call
    failed = set()
    for job_id, name in (("job-1", "Cafe Aroha"), ("job-2", "Kai Kitchen")):
        try:
            onboarding_call(sim, job_id, name)
        except PermanentPlatformError:
            failed.add(name)

    # Then only the matching ones fail
    assert failed == affected


def test_a_fault_for_another_sub_step_does_not_hit(sim: PlatformSimulator) -> None:
    sim.add_fault(FaultSpec(sub_step="uploadImages", mode="fail"))
    onboarding_call(sim)
    assert sim.faults()[0].times == 1


def test_faults_lists_what_is_left_and_clear_faults_empties_it(sim: PlatformSimulator) -> None:
    sim.add_fault(FaultSpec(sub_step="createOnboardingUser", mode="transient", times=3))
    with pytest.raises(TransientPlatformError):
        onboarding_call(sim)
    assert [f.times for f in sim.faults()] == [2]
    sim.clear_faults()
    assert sim.faults() == []


def test_latency_delays_the_call_for_times_calls(sim: PlatformSimulator) -> None:
    # Given a 30 ms latency for one call
    sim.add_fault(FaultSpec(sub_step="createOnboardingUser", mode="latency", latency_ms=30))

    # When a call is made
    started = time.perf_counter()
    result = onboarding_call(sim)
    elapsed = time.perf_counter() - started

    # Then it was delayed and otherwise normal, and the fault is used up
    assert elapsed >= 0.03
    assert sim.ledger()[0].object_id == result.id
    assert sim.faults() == []


def test_global_latency_delays_every_call(
    sim: PlatformSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(simulator_module.time, "sleep", slept.append)
    sim.set_latency(7)

    onboarding_call(sim)
    sim.find_account(make_meta(), email="x@y.example")

    assert slept == [0.007, 0.007]
    with pytest.raises(ValueError, match=">= 0"):
        sim.set_latency(-1)


def test_the_lock_is_not_held_while_sleeping(
    sim: PlatformSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a call of job-1 stuck in its latency
    asleep, wake = threading.Event(), threading.Event()

    def blocking_sleep(_: float) -> None:
        asleep.set()
        wake.wait(timeout=5)

    monkeypatch.setattr(simulator_module.time, "sleep", blocking_sleep)
    sim.add_fault(
        FaultSpec(sub_step="createOnboardingUser", job_id="job-1", mode="latency", latency_ms=1)
    )
    slow = threading.Thread(target=onboarding_call, args=(sim, "job-1"))
    slow.start()
    assert asleep.wait(timeout=5)

    # When job-2 calls meanwhile
    # Then it completes while job-1 is still asleep
    onboarding_call(sim, "job-2")
    assert [e.job_id for e in sim.ledger()] == ["job-2"]
    wake.set()
    slow.join(timeout=5)
    assert [e.job_id for e in sim.ledger()] == ["job-2", "job-1"]


def test_latency_ms_with_another_mode_delays_then_strikes(
    sim: PlatformSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(simulator_module.time, "sleep", slept.append)
    sim.add_fault(FaultSpec(sub_step="createOnboardingUser", mode="transient", latency_ms=12))

    with pytest.raises(TransientPlatformError):
        onboarding_call(sim)
    assert slept == [0.012]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"sub_step": "x", "mode": "latency"}, id="latency-without-ms"),
        pytest.param({"sub_step": "x", "mode": "explode"}, id="unknown-mode"),
        pytest.param({"sub_step": "x", "mode": "fail", "times": 0}, id="zero-times"),
        pytest.param({"sub_step": "", "mode": "fail"}, id="empty-sub-step"),
        pytest.param({"sub_step": "x", "mode": "fail", "colour": "red"}, id="unknown-field"),
    ],
)
def test_invalid_fault_specs_are_rejected(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        FaultSpec.model_validate(data)


def test_fault_spec_defaults() -> None:
    spec = FaultSpec.model_validate({"sub_step": "menuImport", "mode": "crash_after"})
    assert (spec.times, spec.restaurant, spec.job_id, spec.latency_ms) == (1, None, None, None)


def test_a_simulated_crash_survives_pickling() -> None:
    crash = SimulatedCrash("boom", sub_step="menuImport", mode="crash_after", idempotency_key="j:m")
    copied = pickle.loads(pickle.dumps(crash))
    assert (str(copied), copied.sub_step, copied.mode) == ("boom", "menuImport", "crash_after")
