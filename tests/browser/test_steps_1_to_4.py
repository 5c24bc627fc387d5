"""Steps 1-4 on the page: a batch created from pasted names and website addresses (the sample
sites the local server runs, from `/__sim/sites`), the steps live, the extracted menu and
branding for review, the Step 2 form (with a 422 shown at its field), the Step 3 form, the job
reaching Step 5; a Step 1 failure with its reason; the batch's presets.

Every wait is Playwright's auto-waiting `expect` with a deadline; the page's own polling brings
the new state in. Screenshots go to test-output/ (the ones named after docs/ files are copied
there).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LocalApi

PIPELINE_MS = 45_000

LUIGI = "Luigi's Trattoria"
HARBOUR = "Harbour Fish"
CORNER = "Corner Cafe"


def sites(api: LocalApi) -> dict[str, str]:
    listed: list[dict[str, Any]] = api.call("GET", "/__sim/sites")["sites"]
    return {s["slug"]: s["url"] for s in listed}


def create_from_lines(page: Page, api: LocalApi, org: str, batch: str) -> str:
    """Create the batch on the batches view from pasted lines; returns its id (from the address)."""
    urls = sites(api)
    page.goto(f"{api.url}/?org={org}#/batches")
    page.locator("#create-from-sites > summary").click()
    page.get_by_label("Batch name").fill(batch)
    lines = page.get_by_label("Restaurants, one a line")
    # A slip first: the preview names the line and its problem, and nothing can be sent.
    lines.fill(f"{LUIGI}, {urls['luigis-trattoria']}\nBad line, not-a-website\n")
    bad = page.locator("#sites-preview-table tr[data-line='2']")
    expect(bad).to_contain_text("is not a web address")
    expect(page.locator("#sites-submit")).to_be_disabled()
    lines.fill(
        "name,website_url\n"
        f"{LUIGI}, {urls['luigis-trattoria']}\n"
        f"{HARBOUR}, {urls['harbour-fish']}\n"
        f"{CORNER}, {urls['corner-cafe']}\n"
    )
    expect(page.locator("#sites-preview-table tbody tr")).to_have_count(3)
    expect(page.locator("#sites-preview-table .has-error")).to_have_count(0)
    submit = page.locator("#sites-submit")
    expect(submit).to_have_text("Create batch (3 restaurants)")
    submit.click()
    expect(page).to_have_url(re.compile(r"#/batches/[0-9a-f]+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(batch)
    return page.url.rsplit("/", 1)[-1]


def job_ids(api: LocalApi, org: str, batch_id: str) -> dict[str, str]:
    page = api.call("GET", f"/registration-batches/{batch_id}/jobs?limit=200", org=org)
    return {j["restaurant_name"]: j["job_id"] for j in page["jobs"]}


@pytest.fixture
def batch(page: Page, api: LocalApi, org: str) -> tuple[str, dict[str, str]]:
    batch_id = create_from_lines(page, api, org, "Wellington websites")
    return batch_id, job_ids(api, org, batch_id)


def open_job(page: Page, api: LocalApi, org: str, job_id: str) -> None:
    page.goto(f"{api.url}/?org={org}#/jobs/{job_id}")


def step(page: Page, n: int) -> Any:
    return page.locator(f"#pipeline-steps li[data-step='{n}']")


# ---------------------------------------------------------------------- the batch view


def test_the_batch_presets_list_the_jobs_waiting_and_failed(
    page: Page, api: LocalApi, org: str, batch: tuple[str, dict[str, str]], output_dir: Path
) -> None:
    _, jobs = batch
    rows = page.locator("#job-rows tbody tr")
    page.get_by_role("button", name="Waiting at Step 3").click()
    expect(page.get_by_role("button", name="Waiting at Step 3")).to_have_attribute(
        "aria-pressed", "true"
    )
    # The page polls while Steps 1-4 run: Luigi's arrives once its register search is done.
    expect(rows).to_have_count(1, timeout=PIPELINE_MS)
    expect(rows.first).to_contain_text(LUIGI)
    expect(rows.first).to_contain_text("Now at Step 3")
    expect(rows.first).to_contain_text("waiting for you")
    assert "current_step=3" in page.url and "status=action_required" in page.url

    page.get_by_role("button", name="Waiting at Step 2").click()
    expect(rows).to_have_count(1, timeout=PIPELINE_MS)
    expect(rows.first).to_contain_text(HARBOUR)

    page.get_by_role("button", name="Step 1 failed").click()
    expect(rows).to_have_count(1, timeout=PIPELINE_MS)
    expect(rows.first).to_contain_text(CORNER)
    expect(rows.first).to_contain_text("no_menu_found")
    # The failures panel groups it under Step 1.
    expect(page.locator("#failures-body")).to_contain_text("Step 1")
    # Extract all again: the selected job failed at Step 1; the answer is counted.
    page.locator(f"#select-{jobs[CORNER]}").check()
    extract = page.get_by_role("button", name="Extract all again (1)")
    expect(extract).to_be_visible()
    extract.click()
    expect(page.locator("#batch-message")).to_contain_text(
        re.compile(r"Extract again: \d accepted, \d rejected")
    )
    expect(page.locator("#resume-results li")).to_have_count(1)
    page.screenshot(path=output_dir / "batch-steps-1-to-4.png", full_page=True)


# ---------------------------------------------------------------------- the job view


def test_step_2_then_step_3_in_their_forms_until_step_5(
    page: Page, api: LocalApi, org: str, batch: tuple[str, dict[str, str]], output_dir: Path
) -> None:
    _, jobs = batch
    open_job(page, api, org, jobs[HARBOUR])
    # Step 1 read the site (live: the page polls until Step 2 waits for the operator).
    expect(step(page, 2)).to_have_attribute("data-status", "action_required", timeout=PIPELINE_MS)
    expect(step(page, 1)).to_contain_text("2 categories, 4 items read")
    expect(page.locator("#pipeline-status")).to_contain_text("Waiting for you at Step 2")
    review = page.locator("#review-body")
    expect(review.locator("#review-menu")).to_contain_text("Fish and chips")
    expect(review.locator("#review-menu")).to_contain_text("15.90")
    expect(review.locator("#review-branding")).to_contain_text("#0277bd")

    form = page.locator("#step2-form")
    expect(form).to_be_visible()
    emails = form.get_by_role("radio", name=re.compile("@harbour-fish.example"))
    expect(emails).to_have_count(2)
    form.get_by_role("radio", name="events@harbour-fish.example").check()
    # No phone was found: "Another phone" is chosen; an invalid one is refused at its field.
    expect(form.get_by_role("radio", name="Another phone")).to_be_checked()
    phone = form.get_by_label("Another phone (type it)")
    phone.fill("not a phone")
    form.get_by_role("button", name="Save contact details").click()
    error = form.locator("#sphone-error")
    expect(error).to_contain_text("is not a valid phone number")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(phone).to_be_focused()
    expect(form.locator("#semail-error")).to_be_empty()
    page.screenshot(path=output_dir / "step2-form-422.png", full_page=True)

    phone.fill("+64 4 555 0199")
    form.get_by_role("button", name="Save contact details").click()
    expect(page.locator("#pipeline-message")).to_contain_text("Step 2 completed")
    # Step 3's register search runs, then its form offers the candidates.
    step3 = page.locator("#step3-form")
    expect(step3).to_be_visible(timeout=PIPELINE_MS)
    expect(step(page, 2)).to_contain_text("events@harbour-fish.example")
    candidate = step3.get_by_role("radio", name=re.compile("Harbour Fish Limited"))
    expect(candidate).to_be_visible()
    expect(step3).to_contain_text("No. ")
    page.locator("#pipeline").screenshot(path=output_dir / "steps-2-3-forms.png")  # docs/
    candidate.check()
    step3.get_by_role("button", name="Choose this company").click()
    # Step 4 fetches the company; the job reaches Step 5 and its usual form.
    expect(page.locator("#step5-form")).to_be_visible(timeout=PIPELINE_MS)
    expect(page.get_by_role("button", name="Submit Step 5 and start Step 6")).to_be_enabled(
        timeout=PIPELINE_MS
    )
    expect(page.locator("#s5-email")).to_have_value("events@harbour-fish.example")
    expect(step(page, 4)).to_have_attribute("data-status", "completed")
    expect(page.locator("#review-company")).to_contain_text("Harbour Fish Limited")
    expect(page.locator("#pipeline-status")).to_contain_text("Steps 1\u20134 are done")


def test_the_extracted_menu_and_branding_then_a_company_number_the_register_does_not_know(
    page: Page, api: LocalApi, org: str, batch: tuple[str, dict[str, str]], output_dir: Path
) -> None:
    _, jobs = batch
    open_job(page, api, org, jobs[LUIGI])
    expect(step(page, 3)).to_have_attribute("data-status", "action_required", timeout=PIPELINE_MS)
    expect(step(page, 2)).to_contain_text("ciao@luigis-trattoria.example")
    menu = page.locator("#review-menu")
    expect(menu.locator("caption")).to_have_text(["Antipasti", "Pasta", "Dolci"])
    expect(menu.locator("tr", has_text="Bruschetta")).to_contain_text("12.50")
    branding = page.locator("#review-branding")
    expect(branding.get_by_role("img", name="Primary colour #b22222")).to_be_visible()
    expect(branding).to_contain_text("Playfair Display")
    expect(branding).to_contain_text("https://cdn.luigis-trattoria.example/logo.png")
    expect(step(page, 1)).to_contain_text("1 left out")
    form = page.locator("#step3-form")
    expect(form.get_by_role("radio")).to_have_count(4)  # three candidates and "another"
    page.locator("#pipeline").screenshot(path=output_dir / "job-from-website.png")  # docs/

    form.get_by_label("Another company number (type it)").fill("999999")
    form.get_by_role("button", name="Choose this company").click()
    expect(form.locator("#scompany-error")).to_contain_text("does not know company '999999'")
    form.get_by_role("radio", name=re.compile("Luigi's Trattoria Limited")).check()
    form.get_by_role("button", name="Choose this company").click()
    expect(page.get_by_role("button", name="Submit Step 5 and start Step 6")).to_be_visible(
        timeout=PIPELINE_MS
    )
    expect(page.locator("#review-company")).to_contain_text("Luigi Bianchi")


def test_a_step_1_failure_with_its_reason_and_retry(
    page: Page, api: LocalApi, org: str, batch: tuple[str, dict[str, str]]
) -> None:
    _, jobs = batch
    open_job(page, api, org, jobs[CORNER])
    failure = page.locator("#step-failure")
    expect(failure).to_be_visible(timeout=PIPELINE_MS)
    expect(failure).to_contain_text("Step 1 failed")
    expect(failure).to_contain_text("no_menu_found")
    expect(page.locator("#step-failure-reason")).to_contain_text("no schema.org menu")
    expect(step(page, 1)).to_have_attribute("data-status", "failed")
    # It is not shown as a Step 6 failure.
    expect(page.locator("#last-failure")).to_be_empty()
    retry = page.get_by_role("button", name="Retry Step 1")
    expect(retry).to_be_enabled()
    retry.click()
    # The page says what the server answered; the site still has no menu, so Step 1 fails again.
    expect(page.locator("#pipeline-message")).not_to_be_empty()
    expect(page.locator("#step-failure")).to_contain_text("no_menu_found", timeout=PIPELINE_MS)
