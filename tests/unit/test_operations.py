"""Bulk operations' pure rules: which jobs a selector takes, each job's Step 5 config."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from domain.operations import Selector, generated_password, job_config, matches
from state.models import ErrorCode, Job, LastFailure, StepStatus
from tests.factories import make_job


def _failed(
    sub_step: str = "restaurantRegistration", code: ErrorCode = ErrorCode.PLATFORM_REJECTED
) -> Job:
    job = make_job()
    failure = LastFailure(
        phase="phase2", sub_step=sub_step, error="refused", error_code=code, at=datetime.now(UTC)
    )
    return job.model_copy(update={"status": StepStatus.ACTION_REQUIRED, "last_failure": failure})


def test_every_given_field_must_match() -> None:
    job = _failed()
    assert matches(Selector(batch_id="b-1"), job)
    assert matches(Selector(batch_id="b-1", failed_sub_step="restaurantRegistration"), job)
    assert matches(Selector(job_ids=[job.job_id], error_code="platform_rejected"), job)
    assert not matches(Selector(batch_id="b-2"), job)
    assert not matches(Selector(batch_id="b-1", failed_sub_step="menuImport"), job)
    assert not matches(Selector(batch_id="b-1", failed_phase="phase1"), job)
    assert not matches(Selector(job_ids=["other"]), job)
    assert not matches(Selector(batch_id="b-1", status="completed"), job)
    # a job that never failed matches no failure field
    assert not matches(Selector(batch_id="b-1", error_code="interrupted"), make_job())


@pytest.mark.parametrize(
    "given",
    [
        {},
        {"status": "completed"},
        {"batch_id": "b", "failed_sub_step": "noSuchStep"},
        {"batch_id": "b", "error_code": "nope"},
        {"batch_id": "b", "status": "sleeping"},
        {"job_ids": []},
        {"job_ids": ["bad id"]},
    ],
)
def test_a_selector_is_refused_when_it_names_no_scope_or_an_unknown_value(
    given: dict[str, object],
) -> None:
    with pytest.raises(ValidationError):
        Selector.model_validate(given)


def test_job_config_defaults_to_the_restaurants_own_email_and_menu() -> None:
    config = job_config(
        {"menu": {"uploadImages": True}},
        {"onboarding": {"createOnboardingUser": True}},
        email="owner@aroha.example",
        menu_id="m-aroha-1",
        password=generated_password(),
    )
    assert config.account.email == "owner@aroha.example"
    assert config.menu.selectedMenuId == "m-aroha-1"
    assert config.menu.uploadImages and config.onboarding.createOnboardingUser
    overridden = job_config(
        {"account": {"email": "a@b.example"}, "menu": {"selectedMenuId": "m-x"}},
        {},
        email="owner@aroha.example",
        menu_id="m-aroha-1",
        password="S3cure-pass-123",
    )
    assert overridden.account.email == "a@b.example"
    assert overridden.menu.selectedMenuId == "m-x"


def test_generated_passwords_meet_the_rule_and_differ() -> None:
    made = {generated_password() for _ in range(50)}
    assert len(made) == 50
    assert all(len(p) == 24 and any(c.isdigit() for c in p) for p in made)
