"""Steps 1-4's pure rules (domain.pipeline): the seed's transitions, Step 2's decision, how a
failure is named, and the two forms a restaurant is given in."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from domain.onboarding import NewBatch, NewProspect
from domain.pipeline import (
    completed_restaurant,
    contacts_found,
    decided,
    failure_code,
    needs_directory,
    new_prospect_job,
    readable_cause,
    step_failure,
    with_directory,
    with_step,
)
from local.samples import restaurant_data
from state.models import (
    Company,
    ErrorCode,
    Job,
    Prospect,
    Restaurant,
    StepSource,
    StepStatus,
)
from tests.factories import make_restaurant


def prospect(**overrides: object) -> Prospect:
    data = {"name": "Luigi's Trattoria", "website_url": "https://luigis.example/"} | overrides
    return Prospect.model_validate(data)


# ---------------------------------------------------------------- a new job from a website


def test_a_new_website_job_is_at_step_1_with_every_step_pending() -> None:
    job = new_prospect_job("b-1", "org-1", prospect())

    assert job.current_step == 1
    assert [s.status for s in job.steps] == [StepStatus.PENDING] * 6
    assert job.pipeline is not None and job.pipeline.runs == 0
    assert isinstance(job.restaurant, Prospect)
    # Step 6's progress is there from the start, as for a job created with the full form
    assert {p for p in job.step6_progress.phases} == {"phase1", "phase2", "phase3", "phase4"}


def test_read_back_a_prospect_stays_a_prospect_and_a_whole_one_whole() -> None:
    website = new_prospect_job("b-1", "org-1", prospect())
    whole = website.model_copy(update={"restaurant": make_restaurant()})

    again = Job.model_validate_json(website.model_dump_json())
    whole_again = Job.model_validate_json(whole.model_dump_json())

    assert isinstance(again.restaurant, Prospect)
    assert isinstance(whole_again.restaurant, Restaurant)


def test_when_a_step_completes_then_it_is_stamped_with_its_source_and_others_are_untouched() -> (
    None
):
    job = new_prospect_job("b-1", "org-1", prospect())

    steps = with_step(job.steps, 1, StepStatus.COMPLETED, StepSource.AUTOMATION)

    assert steps[0].status == StepStatus.COMPLETED
    assert steps[0].source == StepSource.AUTOMATION and steps[0].completed_at is not None
    assert steps[1:] == job.steps[1:]
    assert with_step(steps, 1, StepStatus.FAILED)[0].completed_at is None


# ---------------------------------------------------------------- Step 2's decision


def test_given_one_email_and_one_phone_on_the_site_then_step_2_decides_alone() -> None:
    found = contacts_found(prospect(), ["hello@luigis.example"], ["+6445550101"])

    assert decided(found) == ("hello@luigis.example", "+6445550101")
    assert found.sources == ["site"]
    assert not needs_directory(found)


def test_given_two_emails_then_the_operator_chooses() -> None:
    found = contacts_found(prospect(), ["a@fish.example", "b@fish.example"], ["+6445550101"])

    assert decided(found) is None
    assert found.emails == ["a@fish.example", "b@fish.example"]


def test_given_one_email_written_in_two_cases_then_it_counts_once() -> None:
    found = contacts_found(prospect(), ["Hello@luigis.example", "hello@LUIGIS.example"], ["+64"])

    assert found.emails == ["Hello@luigis.example"]


def test_given_what_the_operator_typed_at_creation_then_it_wins_over_the_site() -> None:
    given = prospect(email="owner@luigis.example", phone="+6445550199")

    found = contacts_found(given, ["a@x.example", "b@x.example"], ["+6445550101"])

    assert decided(found) == ("owner@luigis.example", "+6445550199")
    assert found.sources == ["given"]


def test_given_nothing_on_the_site_then_the_directory_fills_only_what_is_missing() -> None:
    found = contacts_found(prospect(), [], ["+6445550101"])
    assert needs_directory(found)

    filled = with_directory(found, ["spice@route.example"], ["+6495550000"])

    assert filled.emails == ["spice@route.example"]
    assert filled.phones == ["+6445550101"]  # the site's phone is kept
    assert filled.sources == ["site", "directory"]
    assert decided(filled) == ("spice@route.example", "+6445550101")


def test_given_nothing_anywhere_then_the_operator_is_asked() -> None:
    filled = with_directory(contacts_found(prospect(), [], []), [], [])

    assert decided(filled) is None
    assert filled.sources == []


# ---------------------------------------------------------------- Step 4's result


def test_when_step_4_has_the_company_then_the_restaurant_is_whole() -> None:
    whole = make_restaurant()
    known = prospect(
        email="owner@luigis.example", phone="+6445550101", menu=whole.menu, branding=whole.branding
    )
    company = Company(name="Luigi's Trattoria Limited", number="1234567", directors=["A. Rossi"])

    restaurant = completed_restaurant(known, company)

    assert restaurant.company == company
    assert restaurant.website_url == "https://luigis.example/"
    assert restaurant.menu == whole.menu


def test_when_steps_1_and_2_are_not_done_then_no_whole_restaurant_is_made() -> None:
    with pytest.raises(ValueError, match="Steps 1 and 2"):
        completed_restaurant(prospect(), Company(name="X Limited"))


# ---------------------------------------------------------------- failures


@pytest.mark.parametrize(
    ("error", "code"),
    [
        ("SiteUnreachableError", ErrorCode.SITE_UNREACHABLE),
        ("NoMenuFoundError", ErrorCode.NO_MENU_FOUND),
        ("TransientRegisterError", ErrorCode.REGISTER_UNAVAILABLE),
        ("PermanentRegisterError", ErrorCode.REGISTER_REJECTED),
        ("UnknownCompanyError", ErrorCode.REGISTER_REJECTED),
        ("States.Timeout", ErrorCode.TIMED_OUT),
        ("Runtime.ExitError", ErrorCode.INTERRUPTED),
        ("Lambda.ServiceException", ErrorCode.INTERRUPTED),
        ("KeyError", ErrorCode.INTERNAL_ERROR),
    ],
)
def test_each_failure_is_named_by_one_code(error: str, code: ErrorCode) -> None:
    assert failure_code(error) == code


def test_the_reason_is_the_lambdas_message_never_its_envelope() -> None:
    cause = json.dumps(
        {"errorMessage": "https://x.example answered 404", "errorType": "SiteUnreachableError"}
    )

    failure = step_failure(1, "SiteUnreachableError", cause, "arn:exec")

    assert failure.error == "https://x.example answered 404"
    assert failure.step == 1 and failure.retryable
    assert readable_cause(None, "States.Timeout") == "the step failed (States.Timeout)"
    assert readable_cause("not json", "X") == "not json"


def test_a_missing_menu_is_not_worth_a_plain_retry() -> None:
    assert not step_failure(1, "NoMenuFoundError", None, None).retryable


# ---------------------------------------------------------------- the two forms


def test_given_a_name_and_a_website_then_the_restaurant_is_a_website_one() -> None:
    batch = NewBatch.model_validate(
        {
            "name": "From websites",
            "restaurants": [
                {"name": "Luigi's", "website_url": "http://127.0.0.1:8000/luigis/"},
                restaurant_data("Cafe Aroha"),
            ],
        }
    )

    assert isinstance(batch.restaurants[0], NewProspect)
    assert isinstance(batch.restaurants[1], Restaurant)


@pytest.mark.parametrize(
    ("restaurant", "field"),
    [
        ({"name": "X", "website_url": "ftp://x.example/"}, "website_url"),
        ({"name": "X", "website_url": "https://x.example/", "email": "not-an-email"}, "email"),
        ({"name": "X", "website_url": "https://x.example/", "menu_url": "y"}, "menu_url"),
        ({"name": "  ", "website_url": "https://x.example/"}, "name"),
        ({"name": "X"}, "branding"),  # neither form: the full form's missing fields are named
    ],
)
def test_a_bad_restaurant_is_refused_naming_its_field(
    restaurant: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        NewBatch.model_validate({"name": "B", "restaurants": [restaurant]})

    assert any(field in ".".join(map(str, e["loc"])) for e in raised.value.errors())
