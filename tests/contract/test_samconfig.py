"""samconfig.toml: one environment per stage, each deploying its own stack with its own Stage."""

from __future__ import annotations

import shlex
import tomllib
from typing import Any

import pytest
from tools.cfn_template import REPO_ROOT

STAGES = ("dev", "staging", "prod")


@pytest.fixture(scope="module")
def samconfig() -> dict[str, Any]:
    return tomllib.loads((REPO_ROOT / "samconfig.toml").read_text(encoding="utf-8"))


def _overrides(environment: dict[str, Any]) -> dict[str, str]:
    pairs = shlex.split(environment["deploy"]["parameters"]["parameter_overrides"])
    return dict(pair.split("=", 1) for pair in pairs)


@pytest.mark.parametrize("stage", STAGES)
def test_stage_environment_deploys_its_own_stack(
    samconfig: dict[str, Any], template: dict[str, Any], stage: str
) -> None:
    environment = samconfig[stage]
    stack_name = environment["global"]["parameters"]["stack_name"]
    # dev is the default environment's stack (two stacks of one Stage would clash on names)
    default_stack = samconfig["default"]["global"]["parameters"]["stack_name"]
    assert stack_name == (default_stack if stage == "dev" else f"pumpd-onboarding-{stage}")
    deploy = environment["deploy"]["parameters"]
    assert set(deploy["capabilities"].split()) == {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"}
    assert deploy["resolve_s3"] is True
    overrides = _overrides(environment)
    assert overrides["Stage"] == stage
    # every override names a parameter of the template
    assert set(overrides) <= set(template["Parameters"])
    # and its value is one the template accepts
    retention = overrides.get("LogRetentionDays")
    if retention is not None:
        assert int(retention) in template["Parameters"]["LogRetentionDays"]["AllowedValues"]


def test_prod_confirms_its_change_set(samconfig: dict[str, Any]) -> None:
    assert samconfig["prod"]["deploy"]["parameters"]["confirm_changeset"] is True


def test_stacks_and_stages_are_distinct(samconfig: dict[str, Any]) -> None:
    stacks = [samconfig[s]["global"]["parameters"]["stack_name"] for s in STAGES]
    stages = [_overrides(samconfig[s])["Stage"] for s in STAGES]
    assert len(set(stacks)) == len(stacks)
    assert len(set(stages)) == len(stages)


def test_default_environment_still_works(samconfig: dict[str, Any]) -> None:
    default = samconfig["default"]
    assert default["global"]["parameters"]["stack_name"]
    assert default["validate"]["parameters"]["lint"] is True
    assert default["build"]["parameters"] == {"cached": False, "parallel": False}
    assert _overrides(default) == {"Stage": "dev"}
    assert default["deploy"]["parameters"]["confirm_changeset"] is True
    # the other environments build the same way
    for stage in STAGES:
        assert samconfig[stage]["build"]["parameters"] == default["build"]["parameters"]
