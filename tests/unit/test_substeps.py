"""Each sub-step's logic against the simulator and in-memory store and secrets."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

from clients.platform import PermanentPlatformError, TransientPlatformError
from clients.simulator import FaultSpec, PlatformSimulator, SimulatedCrash
from domain.catalogue import CATALOGUE, SUB_STEP_LOGIC, SUB_STEP_NAMES, SUB_STEPS
from domain.codegen import generate_code
from domain.context import RunContext, reconstruct_context
from domain.errors import InvalidConfigError
from domain.menu_format import to_menu_import
from domain.substeps.base import InvalidInputError, MissingContextError, SubStepInput
from state.models import (
    ExecutionConfig,
    PhaseProgress,
    Restaurant,
    Step6Progress,
    SubStepProgress,
    SubStepStatus,
)
from tests.unit.fakes import (
    InMemoryObjectStore,
    InMemorySecretStore,
    make_config,
    make_input,
    make_restaurant,
    restaurant_data,
)

JOB = "job-1"
PASSWORD = "S3cure-pass-123"

EXPECTED_KEYS: dict[str, set[str]] = {
    "cloudwaitressAccount": {"account_id", "email", "reused"},
    "codeGeneration": {"file_keys", "checksum", "code_bundle_id"},
    "createOnboardingUser": {"onboarding_user_id"},
    "uploadImages": {"image_ids", "count", "image_ids_key", "upload_id"},
    "restaurantRegistration": {"restaurant_id"},
    "websiteConfig": {"website_id"},
    "servicesConfig": {"services_id"},
    "paymentConfig": {"payment_config_id"},
    "menuImport": {"menu_import_id", "item_count", "category_count", "import_key"},
    "syncOnboardingUser": {"sync_id"},
    "optionSets": {"option_set_count", "result_id"},
    "itemTags": {"tag_count", "result_id"},
}


@dataclass
class World:
    """One job against a fresh simulator, with its outputs kept as persisted progress."""

    sim: PlatformSimulator
    store: InMemoryObjectStore
    secrets: InMemorySecretStore
    restaurant: Restaurant
    config: ExecutionConfig
    progress: Step6Progress = field(default_factory=Step6Progress)
    job_id: str = JOB

    def context(self) -> RunContext:
        return reconstruct_context(self.progress)

    def input(self, name: str, context: RunContext) -> SubStepInput:
        """What sub-step `name` is given in this world, with exactly `context`."""
        return make_input(
            name,
            platform=self.sim,
            store=self.store,
            secrets=self.secrets,
            restaurant=self.restaurant,
            config=self.config,
            context=context,
            job_id=self.job_id,
        )

    def run(self, name: str, context: RunContext | None = None) -> dict[str, Any]:
        # as the phase runner does: only what the sub-step declares it reads
        declared = SUB_STEPS[name].reads_context + SUB_STEPS[name].may_read_context
        output = SUB_STEP_LOGIC[name](self.input(name, (context or self.context()).only(declared)))
        phase = next(spec.phase for spec in CATALOGUE if spec.name == name)
        self.progress.phases.setdefault(phase, PhaseProgress()).sub_steps[name] = SubStepProgress(
            status=SubStepStatus.COMPLETED, attempts=1, output=output
        )
        return output

    def run_until(self, last: str) -> dict[str, dict[str, Any]]:
        outputs = {}
        for name in SUB_STEP_NAMES:
            outputs[name] = self.run(name)
            if name == last:
                break
        return outputs


def make_world(restaurant: Restaurant | None = None, **config: Any) -> World:
    restaurant = restaurant or make_restaurant()
    secrets = InMemorySecretStore()
    ref = secrets.put_password(JOB, PASSWORD)
    return World(
        sim=PlatformSimulator(),
        store=InMemoryObjectStore(),
        secrets=secrets,
        restaurant=restaurant,
        config=make_config(restaurant, **{"password_ref": ref, **config}),
    )


@pytest.fixture
def world() -> World:
    return make_world()


def effects(world: World) -> dict[str, tuple[str, int, int]]:
    return {e.sub_step: (e.idempotency_key, e.count, e.calls) for e in world.sim.ledger()}


# ------------------------------------------------------------------ every sub-step


def test_the_registry_has_every_sub_step_of_the_catalogue() -> None:
    assert set(SUB_STEP_LOGIC) == set(SUB_STEP_NAMES)


def test_each_sub_step_makes_exactly_one_effect_under_its_key(world: World) -> None:
    # When all twelve sub-steps run in catalogue order, context rebuilt from outputs
    outputs = world.run_until("itemTags")

    # Then each made one effect, keyed "<job_id>:<sub_step>", and returned its output keys
    assert effects(world) == {name: (f"{JOB}:{name}", 1, 1) for name in SUB_STEP_NAMES}
    assert {name: set(out) for name, out in outputs.items()} == EXPECTED_KEYS
    for name, output in outputs.items():
        assert len(json.dumps(output).encode()) < 2_000, name


def test_running_every_sub_step_again_repeats_no_effect(world: World) -> None:
    # Given a job whose sub-steps all completed
    first = world.run_until("itemTags")

    # When every sub-step runs again (a resume after a crash before each checkpoint)
    second = {name: world.run(name) for name in SUB_STEP_NAMES}

    # Then outputs are the same and no effect was repeated
    assert second == first
    assert all(count == 1 for _, count, _ in effects(world).values())
    # The account is found, not created again: the retry made no mutating call
    assert effects(world)["cloudwaitressAccount"][2] == 1
    assert effects(world)["codeGeneration"][2] == 2


def test_the_context_needs_of_each_sub_step_are_met_by_earlier_outputs(world: World) -> None:
    outputs = world.run_until("itemTags")
    context = world.context()
    assert context.get("account_id") == outputs["cloudwaitressAccount"]["account_id"]
    assert context.get("restaurant_id") == outputs["restaurantRegistration"]["restaurant_id"]
    assert context.get("menu_import_id") == outputs["menuImport"]["menu_import_id"]
    assert (
        context.get("onboarding_user_id") == outputs["createOnboardingUser"]["onboarding_user_id"]
    )


def test_each_sub_step_returns_exactly_the_outputs_it_declares(world: World) -> None:
    # when all twelve run, each output has the keys its declaration names, no more, no fewer
    outputs = world.run_until("itemTags")
    for name, output in outputs.items():
        assert tuple(output) == SUB_STEPS[name].outputs, name


@pytest.mark.parametrize(
    ("name", "missing"),
    [
        pytest.param("restaurantRegistration", "account_id", id="registration"),
        pytest.param("websiteConfig", "restaurant_id", id="website"),
        pytest.param("servicesConfig", "restaurant_id", id="services"),
        pytest.param("paymentConfig", "restaurant_id", id="payment"),
        pytest.param("menuImport", "restaurant_id", id="menu"),
        pytest.param("syncOnboardingUser", "onboarding_user_id", id="sync"),
        pytest.param("optionSets", "restaurant_id", id="option-sets"),
        pytest.param("itemTags", "restaurant_id", id="tags"),
    ],
)
def test_a_missing_dependency_output_is_a_clear_error(
    world: World, name: str, missing: str
) -> None:
    with pytest.raises(MissingContextError, match=missing):
        world.run(name, RunContext())
    assert world.sim.ledger() == []


# ------------------------------------------------------------------ cloudwaitressAccount


def test_a_new_account_is_created_with_the_stored_password(world: World) -> None:
    output = world.run("cloudwaitressAccount")

    assert output == {
        "account_id": output["account_id"],
        "email": "owner@cafe-aroha.example",
        "reused": False,
    }
    assert world.secrets.reads == [world.config.account.password_secret_ref]
    account = world.sim.get_object(output["account_id"])
    assert account is not None
    assert account.attributes["name"] == "Cafe Aroha"
    assert PASSWORD not in json.dumps(output)


def test_an_existing_account_of_another_job_is_reused(world: World) -> None:
    # Given an account for the email made by another job
    other = make_world()
    other.sim = world.sim
    other.job_id = "job-0"
    existing = other.run("cloudwaitressAccount")

    # When this job's account sub-step runs
    output = world.run("cloudwaitressAccount")

    # Then it reuses the account, takes no effect and never reads the password
    assert output == {**existing, "reused": True}
    assert [e.job_id for e in world.sim.ledger()] == ["job-0"]
    assert world.secrets.reads == []


def test_without_register_new_user_the_account_must_exist() -> None:
    world = make_world(register_new_user=False)
    with pytest.raises(InvalidConfigError, match="registerNewUser is false"):
        world.run("cloudwaitressAccount")
    assert world.sim.ledger() == []


def test_without_register_new_user_an_existing_account_is_used() -> None:
    world = make_world(register_new_user=False)
    creator = make_world()
    creator.sim, creator.job_id = world.sim, "job-0"
    created = creator.run("cloudwaitressAccount")

    output = world.run("cloudwaitressAccount")

    assert (output["account_id"], output["reused"]) == (created["account_id"], True)


def test_a_new_account_without_a_password_is_an_invalid_config() -> None:
    world = make_world(password_ref=None)
    with pytest.raises(InvalidConfigError, match="needs a password"):
        world.run("cloudwaitressAccount")
    assert world.sim.ledger() == []


def test_after_a_crash_after_create_the_retry_finds_its_own_account(world: World) -> None:
    # Given the Lambda died right after the account was created
    world.sim.add_fault(FaultSpec(sub_step="cloudwaitressAccount", mode="crash_after"))
    with pytest.raises(SimulatedCrash):
        world.run("cloudwaitressAccount")

    # When the sub-step runs again
    output = world.run("cloudwaitressAccount")

    # Then it finds the account it made, counts it as created, and took one effect
    [entry] = world.sim.ledger()
    assert (output["account_id"], output["reused"]) == (entry.object_id, False)
    assert entry.count == 1


def test_platform_errors_propagate_for_the_runner_to_classify(world: World) -> None:
    world.sim.add_fault(FaultSpec(sub_step="cloudwaitressAccount", mode="transient"))
    with pytest.raises(TransientPlatformError):
        world.run("cloudwaitressAccount")
    assert world.run("cloudwaitressAccount")["reused"] is False


# ------------------------------------------------------------------ code and website


def test_code_generation_stores_three_files_and_publishes_them(world: World) -> None:
    output = world.run("codeGeneration")

    expected = generate_code(world.restaurant.branding, world.restaurant.name)
    assert output["file_keys"] == {
        "head_html": f"generated/{JOB}/head.html",
        "body_html": f"generated/{JOB}/body.html",
        "css": f"generated/{JOB}/styles.css",
    }
    assert output["checksum"] == expected.checksum
    stored = world.store.objects
    assert stored[f"generated/{JOB}/head.html"] == (
        expected.head_html,
        "text/html; charset=utf-8",
    )
    assert stored[f"generated/{JOB}/styles.css"] == (expected.css, "text/css; charset=utf-8")
    bundle = world.sim.get_object(output["code_bundle_id"])
    assert bundle is not None
    assert bundle.attributes["files"] == output["file_keys"]
    assert bundle.attributes["checksum"] == expected.checksum


def test_website_config_sends_the_stored_files(world: World) -> None:
    world.run_until("restaurantRegistration")
    # Given files changed in the store after generation (the store is what counts)
    key = world.context().get("code_generation_file_paths")["css"]  # type: ignore[index]
    world.store.put_text(key, "body{}", "text/css")

    output = world.run("websiteConfig")

    website = world.sim.get_object(output["website_id"])
    assert website is not None
    code = generate_code(world.restaurant.branding, world.restaurant.name)
    assert website.attributes["bytes"] == len(code.head_html) + len(code.body_html) + len("body{}")
    assert website.attributes["code_bundle_id"] == world.context().get("code_bundle_id")


# ------------------------------------------------------------------ menu


def test_upload_images_uploads_each_image_once_in_menu_order(world: World) -> None:
    output = world.run("uploadImages")

    assert list(output["image_ids"]) == [
        "https://cafe-aroha.example/fw.jpg",
        "https://cafe-aroha.example/latte.jpg",
    ]
    assert output["count"] == 2
    assert json.loads(world.store.get_text(output["image_ids_key"])) == output["image_ids"]
    upload = world.sim.get_object(output["upload_id"])
    assert upload is not None
    assert upload.attributes["menu_id"] == world.config.menu.selectedMenuId


def test_a_large_image_map_stays_in_the_store_only() -> None:
    # Given a menu with many images
    data = restaurant_data()
    data["menu"]["categories"] = [
        {
            "name": "Many",
            "items": [
                {"name": f"Item {n}", "price": 1, "image_url": f"https://img.example/{n}.jpg"}
                for n in range(200)
            ],
        }
    ]
    world = make_world(Restaurant.model_validate(data))

    output = world.run("uploadImages")

    assert output["image_ids"] is None
    assert output["count"] == 200
    assert len(json.loads(world.store.get_text(output["image_ids_key"]))) == 200
    assert len(json.dumps(output)) < 2_000


def test_menu_import_stores_and_imports_the_document(world: World) -> None:
    world.run_until("restaurantRegistration")

    output = world.run("menuImport")

    document = to_menu_import(world.restaurant.menu)
    assert output["import_key"] == f"generated/{JOB}/menu-import.json"
    assert json.loads(world.store.get_text(output["import_key"])) == document
    assert (output["item_count"], output["category_count"]) == (3, 2)
    imported = world.sim.get_object(output["menu_import_id"])
    assert imported is not None
    assert imported.attributes["item_count"] == 3


def test_an_empty_menu_fails_menu_import_permanently_without_effect() -> None:
    data = restaurant_data()
    data["menu"]["categories"] = []
    world = make_world(Restaurant.model_validate(data))
    world.run_until("restaurantRegistration")
    before = len(world.sim.ledger())

    with pytest.raises(InvalidInputError, match="no items"):
        world.run("menuImport")

    assert isinstance(InvalidInputError("x"), PermanentPlatformError)
    assert len(world.sim.ledger()) == before


def test_option_sets_and_tags_are_added_to_the_imported_menu(world: World) -> None:
    world.run_until("syncOnboardingUser")

    option_sets = world.run("optionSets")
    tags = world.run("itemTags")

    assert option_sets["option_set_count"] == 1
    assert tags["tag_count"] == 2
    result = world.sim.get_object(tags["result_id"])
    assert result is not None
    assert result.attributes["menu_import_id"] == world.context().get("menu_import_id")


# ------------------------------------------------------------------ restaurant and onboarding


def test_registration_sends_the_company_and_phone(world: World) -> None:
    world.run("cloudwaitressAccount")

    output = world.run("restaurantRegistration")

    restaurant = world.sim.get_object(output["restaurant_id"])
    assert restaurant is not None
    assert restaurant.attributes["company"] == {
        "name": "Cafe Aroha Limited",
        "number": "1234567",
    }
    assert restaurant.attributes["phone"] == "+64 4 555 0101"


def test_services_and_payments_get_defaults(world: World) -> None:
    world.run_until("restaurantRegistration")

    services = world.sim.get_object(world.run("servicesConfig")["services_id"])
    payments = world.sim.get_object(world.run("paymentConfig")["payment_config_id"])

    assert services is not None
    assert payments is not None
    assert "opening_hours" in services.attributes["services"]
    assert "online" in payments.attributes["settings"]


def test_sync_onboarding_runs_before_the_restaurant_exists(world: World) -> None:
    # Given only the onboarding user (sync may run beside restaurantRegistration)
    world.run("createOnboardingUser")

    output = world.run("syncOnboardingUser")

    synced = world.sim.get_object(output["sync_id"])
    assert synced is not None
    assert synced.attributes["restaurant_id"] is None


def test_phase_two_sub_steps_run_concurrently_without_interference(world: World) -> None:
    # Given phase 1 and the restaurant registration done
    world.run_until("uploadImages")
    world.run("restaurantRegistration")
    context = world.context()
    names = ["websiteConfig", "servicesConfig", "paymentConfig", "menuImport", "syncOnboardingUser"]

    # When the other five phase 2 sub-steps run in threads, twice each
    def run(name: str) -> dict[str, Any]:
        return SUB_STEP_LOGIC[name](world.input(name, context))

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(run, names * 2))

    # Then each took effect once, and both runs of a sub-step agree
    assert results[:5] == results[5:]
    phase2 = {k: v for k, v in effects(world).items() if k in names}
    assert phase2 == {name: (f"{JOB}:{name}", 1, 2) for name in names}
