"""The page decides on the API's codes (`error`, `code`), never on the words of a message."""

from __future__ import annotations

import json
from collections.abc import Callable

from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import LocalApi


def answering(status: int, body: object) -> Callable[[Route], None]:
    def fulfil(route: Route) -> None:
        route.fulfill(status=status, content_type="application/json", body=json.dumps(body))

    return fulfil


def test_batch_rejections_are_told_by_their_code(page: Page, api: LocalApi, org: str) -> None:
    created = api.create_batch(org, "Codes", ["Kai Kitchen", "Moana Pies"])
    ids = {j["restaurant_name"]: j["job_id"] for j in created["jobs"]}
    # Messages that say the opposite of their codes: only the codes may count.
    answer = {
        "accepted": [],
        "rejected": [
            {
                "job_id": ids["Kai Kitchen"],
                "code": "already_running",
                "reason": "nothing to resume",
                "active_execution": "arn:aws:states:local:1:execution:sm:run-1",
            },
            {"job_id": ids["Moana Pies"], "code": "conflict", "reason": "already running"},
        ],
    }

    batch_path = f"**/registration-batches/{created['batch_id']}/resume-step-6"
    page.route(batch_path, answering(202, answer))
    page.goto(f"{api.url}/?org={org}#/batches/{created['batch_id']}")
    page.get_by_label("Select this page").check()
    page.get_by_role("button", name="Resume selected (2)").click()
    results = page.locator("#resume-results")
    kai = results.locator(f'li[data-job-id="{ids["Kai Kitchen"]}"]')
    pies = results.locator(f'li[data-job-id="{ids["Moana Pies"]}"]')
    expect(kai).to_have_text("✕Kai Kitchen: rejected (already running)")
    expect(pies).to_have_text("✕Moana Pies: rejected (the job changed meanwhile: try again)")
    expect(page.locator("#batch-message")).to_contain_text("0 accepted, 2 rejected")


def test_a_409_is_told_by_its_error_code(page: Page, api: LocalApi, org: str) -> None:
    created = api.create_batch(org, "Conflict", ["Te Aro Tacos"])
    job_id = created["jobs"][0]["job_id"]
    page.goto(f"{api.url}/?org={org}#/jobs/{job_id}")
    submit = page.get_by_role("button", name="Submit Step 5 and start Step 6")
    page.get_by_label("Account password").fill("4-digits-now-1234")
    for error, expected in [
        ("already_running", "Already running: a Step 6 run is active"),
        ("step5_completed", "Step 5 is already completed"),
        ("conflict", "The job changed meanwhile"),
    ]:
        body = {"statusCode": 409, "error": error, "message": "a run is already running"}
        pattern = f"**/registration-batches/{created['batch_id']}/step-5"
        page.route(pattern, answering(409, body))
        submit.click()
        expect(page.locator("#step5-message")).to_contain_text(expected)
        expect(submit).to_be_enabled()
        page.unroute(pattern)
