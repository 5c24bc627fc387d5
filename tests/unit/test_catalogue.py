"""The sub-step catalogue: derived from the declarations, checked when it loads, and the same
wherever it is shown (docs/architecture.md §4.2 and the page's generated catalogue)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from domain import catalogue
from domain.catalogue import CATALOGUE, SUB_STEP_LOGIC, SUB_STEPS, dependents_of
from local.catalogue import CATALOGUE_JS, render
from local.template import PROJECT_ROOT
from tests.factories import make_config

ARCHITECTURE = PROJECT_ROOT / "docs" / "architecture.md"
NONE = "\u2013"  # the en dash the table writes for "no dependency"
TABLE_HEADER = "| phase | sub-step | runs only if | depends on | blocking | re-runnable |"


def _docs_table() -> list[tuple[str, str, str, tuple[str, ...], bool, bool]]:
    lines = ARCHITECTURE.read_text(encoding="utf-8").splitlines()
    start = lines.index(TABLE_HEADER) + 2  # the header, then its |---| line
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        phase, name, runs_if, depends, blocking, rerunnable = (
            cell.strip() for cell in line.strip("|").split("|")
        )
        rows.append(
            (
                f"phase{phase}",
                name.strip("`"),
                runs_if,
                tuple(d.strip().strip("`") for d in depends.split(",") if d.strip() != NONE),
                blocking == "yes",
                rerunnable == "yes",
            )
        )
    return rows


def test_the_architecture_table_is_the_code() -> None:
    # the human-readable table in docs/architecture.md states exactly what the code declares
    assert _docs_table() == [
        (s.phase, s.name, s.runs_if_text, s.depends_on, s.blocking, s.rerunnable) for s in CATALOGUE
    ]


def test_the_page_catalogue_is_generated_from_the_code() -> None:
    assert CATALOGUE_JS.read_text(encoding="utf-8") == render(), (
        "frontend/js/catalogue.gen.js is stale: run `make catalogue` and commit it"
    )


def test_every_module_of_the_package_declares_one_sub_step() -> None:
    modules = {p.stem for p in (PROJECT_ROOT / "src/domain/substeps").glob("*.py")}
    assert len(CATALOGUE) == len(modules - {"__init__", "base"}) == 12
    assert set(SUB_STEP_LOGIC) == set(SUB_STEPS)
    assert [s.position for s in CATALOGUE] == list(range(1, 13))


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda s: replace(s, depends_on=("noSuchStep",)), "depends on unknown noSuchStep"),
        (lambda s: replace(s, depends_on=("itemTags",)), "which comes later"),
        (lambda s: replace(s, reads_context=("menu_import_id",)), "no dependency provides"),
        (lambda s: replace(s, runs_if=("menu.noSuchField",)), "unknown config field"),
        (lambda s: replace(s, provides={"x": "not_an_output"}), "not among its outputs"),
    ],
)
def test_declarations_that_do_not_fit_are_refused_when_the_catalogue_loads(
    change: object, problem: str
) -> None:
    # given the registration sub-step declared wrongly in one way
    broken = tuple(
        change(s) if s.name == "restaurantRegistration" else s  # type: ignore[operator]
        for s in CATALOGUE
    )
    # then the catalogue's check names the problem
    with pytest.raises(ValueError, match=re.escape(problem)):
        catalogue._check(broken)


def test_config_fields_include_the_run_condition_and_what_the_logic_reads() -> None:
    assert SUB_STEPS["uploadImages"].config_fields == ("menu.selectedMenuId", "menu.uploadImages")
    assert SUB_STEPS["cloudwaitressAccount"].config_fields == (
        "account.registerNewUser",
        "account.email",
        "account.password",
    )


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
