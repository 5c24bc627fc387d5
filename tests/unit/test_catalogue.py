"""The sub-step catalogue is exactly DESIGN section 3's table."""

from __future__ import annotations

from domain.catalogue import CATALOGUE, dependents_of
from tests.factories import make_config

DESIGN_TABLE = [
    ("phase1", "cloudwaitressAccount", (), True),
    ("phase1", "codeGeneration", (), False),
    ("phase1", "createOnboardingUser", (), False),
    ("phase1", "uploadImages", (), False),
    ("phase2", "restaurantRegistration", ("cloudwaitressAccount",), True),
    ("phase2", "websiteConfig", ("restaurantRegistration", "codeGeneration"), False),
    ("phase2", "servicesConfig", ("restaurantRegistration",), False),
    ("phase2", "paymentConfig", ("restaurantRegistration",), False),
    ("phase2", "menuImport", ("restaurantRegistration",), False),
    ("phase2", "syncOnboardingUser", ("createOnboardingUser",), False),
    ("phase3", "optionSets", ("menuImport",), True),
    ("phase4", "itemTags", ("menuImport",), True),
]


def test_catalogue_matches_the_design_table() -> None:
    assert [(s.phase, s.name, s.depends_on, s.blocking) for s in CATALOGUE] == DESIGN_TABLE


def test_run_conditions() -> None:
    everything = make_config()
    assert all(s.enabled(everything) for s in CATALOGUE)
    no_menu = make_config(menu=False)
    assert {s.name for s in CATALOGUE if not s.enabled(no_menu)} == {
        "uploadImages",
        "menuImport",
        "optionSets",
        "itemTags",
    }
    no_onboarding = make_config(onboarding=False)
    assert {s.name for s in CATALOGUE if not s.enabled(no_onboarding)} == {
        "createOnboardingUser",
        "syncOnboardingUser",
    }
    for spec in CATALOGUE:
        assert not spec.enabled(make_config(disabled=(spec.name,)))


def test_dependents_are_transitive() -> None:
    assert dependents_of("cloudwaitressAccount") == (
        "restaurantRegistration",
        "websiteConfig",
        "servicesConfig",
        "paymentConfig",
        "menuImport",
        "optionSets",
        "itemTags",
    )
    assert dependents_of("itemTags") == ()
