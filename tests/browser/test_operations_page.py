"""The operations page, end to end in Chromium against the local server.

Every wait is Playwright's auto-waiting `expect` with a deadline; the page's own polling (with
backoff) is what brings the new state in, never a reload.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import NARROW, LocalApi

RUN_DEADLINE_MS = 45_000


def open_page(page: Page, api: LocalApi, org: str, route: str) -> None:
    page.goto(f"{api.url}/?org={org}{route}")


def job_row(page: Page, name: str) -> Locator:
    return page.locator("tr.job-row").filter(has=page.get_by_role("link", name=name, exact=True))


def test_the_whole_story_fail_resume_complete(
    page: Page, api: LocalApi, org: str, output_dir: Path
) -> None:
    created = api.create_batch(org, "Wellington November", ["Cafe Aroha"])
    batch_id, job_id = created["batch_id"], created["jobs"][0]["job_id"]

    # The batches list: name, created time, status and job counts.
    open_page(page, api, org, "#/batches")
    expect(page.get_by_role("heading", name="Registration batches", level=1)).to_be_visible()
    listed = page.locator("tr", has=page.get_by_role("link", name="Wellington November"))
    expect(listed).to_contain_text("action required")
    expect(listed.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    expect(listed).to_contain_text("1 total")

    # The batch view, by its own address.
    listed.get_by_role("link", name="Wellington November").click()
    expect(page).to_have_url(re.compile(f"#/batches/{batch_id}$"))
    row = job_row(page, "Cafe Aroha")
    expect(row).to_contain_text("waits for Step 5")

    # The job view: a platform failure is waiting for Phase 2's blocking sub-step.
    api.fault(sub_step="restaurantRegistration", mode="fail", job_id=job_id)
    row.get_by_role("link", name="Cafe Aroha").click()
    expect(page).to_have_url(re.compile(f"#/jobs/{job_id}$"))
    expect(page.get_by_role("heading", name="Cafe Aroha", level=1)).to_be_visible()
    timeline = page.locator("#timeline li")
    expect(timeline).to_have_count(6)
    expect(timeline.nth(4)).to_contain_text("action required")

    # Step 5 through the page's form.
    email = page.get_by_label("Account email")
    expect(email).to_be_editable()
    expect(email).to_have_value("owner@cafe-aroha.example")
    page.get_by_label("Account password").fill("S3cure-pass-123")
    page.get_by_label("Sync the onboarding record").uncheck()
    page.get_by_role("button", name="Submit Step 5 and start Step 6").click()

    # The job fails at the injected fault, and says so plainly.
    failure = page.locator("#last-failure")
    expect(failure).to_contain_text("Step 6 failed in Phase 2", timeout=RUN_DEADLINE_MS)
    expect(failure).to_contain_text("restaurantRegistration")
    expect(failure).to_contain_text("simulated fail")
    expect(timeline.nth(5)).to_contain_text("failed")
    expect(page.locator("#phase-2")).to_have_attribute("data-status", "failed")
    expect(page.locator("#phase-1")).to_have_attribute("data-status", "completed")
    skipped = page.locator('#phase-2 tr[data-sub-step="websiteConfig"]')
    expect(skipped).to_contain_text("skipped")
    expect(skipped).to_contain_text("Dependency not met")

    # Step 5 is locked now: read-only, with the reason, and no password anywhere.
    expect(page.locator("#step5-locked-note")).to_contain_text("Read-only: Step 5 is completed")
    expect(page.get_by_label("Account email")).to_be_disabled()
    expect(page.get_by_label("Sync the onboarding record")).not_to_be_checked()
    expect(page.locator("input[type=password]")).to_have_count(0)
    expect(page.locator("#s5-password-state")).to_have_text(re.compile("never shown"))
    assert "S3cure-pass-123" not in page.content()
    expect(page.get_by_role("button", name="Submit Step 5 and start Step 6")).to_have_count(0)

    resume = page.get_by_role("button", name="Resume Step 6")
    expect(resume).to_be_enabled()
    expect(page.locator("#resume-hint")).to_contain_text("Continues from Phase 2")
    page.screenshot(path=output_dir / "job-view-failed-phase2.png", full_page=True)

    # Resume: a slow platform call holds the run open long enough to watch it.
    api.fault(sub_step="servicesConfig", mode="latency", latency_ms=3000, job_id=job_id)
    resume.click()
    expect(page.locator("#run-status")).to_contain_text("Resuming from Phase 2")
    expect(resume).to_be_disabled()
    expect(timeline.nth(5)).to_contain_text("running")
    expect(page.locator("#run-status")).to_contain_text("Resuming from Phase 2")
    page.screenshot(path=output_dir / "job-view-resuming.png", full_page=True)

    # The run completes; the page notices by itself.
    expect(page.locator("#run-status")).to_contain_text(
        "Resumed from Phase 2: Step 6 completed", timeout=RUN_DEADLINE_MS
    )
    expect(timeline.nth(5)).to_contain_text("completed")
    expect(page.locator(".job-facts")).to_contain_text("completed")
    for n in (1, 2, 3, 4):
        expect(page.locator(f"#phase-{n}")).to_have_attribute("data-status", "completed")
    expect(resume).to_be_hidden()
    expect(page.locator("#last-failure")).to_be_empty()  # a successful run clears it
    page.screenshot(path=output_dir / "job-view-completed.png", full_page=True)

    # Nothing happened twice on the platform, though Phase 2 ran twice.
    effects = [e for e in api.ledger() if e["job_id"] == job_id]
    assert effects
    assert all(e["count"] == 1 for e in effects), effects

    # Back returns to the batch view, which shows the job done.
    page.go_back()
    expect(page).to_have_url(re.compile(f"#/batches/{batch_id}$"))
    expect(job_row(page, "Cafe Aroha")).to_contain_text("all 4 phases done")


def test_batch_resume_through_the_checkboxes(
    page: Page, api: LocalApi, org: str, output_dir: Path
) -> None:
    names = ["Kai Kitchen", "Harbour Dumplings", "Te Aro Tacos", "Moana Pies"]
    created = api.create_batch(org, "Batch resume", names)
    ids = {j["restaurant_name"]: j["job_id"] for j in created["jobs"]}
    api.fault(sub_step="restaurantRegistration", mode="fail", job_id=ids["Kai Kitchen"])
    api.fault(sub_step="optionSets", mode="fail", job_id=ids["Harbour Dumplings"])
    api.submit_step5(org, created["batch_id"], {ids[n]: n for n in names[:3]})

    open_page(page, api, org, f"#/batches/{created['batch_id']}")
    expect(page.get_by_role("heading", name="Batch resume", level=1)).to_be_visible()
    kai, harbour, tacos, pies = (job_row(page, n) for n in names)
    # The page refreshes itself while the runs go on.
    expect(kai).to_contain_text("failed at Phase 2", timeout=RUN_DEADLINE_MS)
    expect(harbour).to_contain_text("failed at Phase 3", timeout=RUN_DEADLINE_MS)
    expect(tacos).to_contain_text("all 4 phases done", timeout=RUN_DEADLINE_MS)
    expect(pies).to_contain_text("waits for Step 5")
    expect(kai).to_contain_text("can resume from Phase 2")

    resume = page.get_by_role("button", name=re.compile("^Resume selected"))
    expect(resume).to_be_disabled()
    for name in ("Kai Kitchen", "Harbour Dumplings", "Te Aro Tacos"):
        page.get_by_label(f"Select {name}").check()
    expect(resume).to_have_text("Resume selected (3)")
    page.screenshot(path=output_dir / "batch-view-failed.png", full_page=True)

    api.fault(sub_step="servicesConfig", mode="latency", latency_ms=2000, job_id=ids["Kai Kitchen"])
    resume.click()
    results = page.locator("#resume-results")
    expect(results.locator(f'li[data-job-id="{ids["Kai Kitchen"]}"]')).to_contain_text(
        "accepted, resuming from Phase 2"
    )
    expect(results.locator(f'li[data-job-id="{ids["Harbour Dumplings"]}"]')).to_contain_text(
        "accepted, resuming from Phase 3"
    )
    expect(results.locator(f'li[data-job-id="{ids["Te Aro Tacos"]}"]')).to_contain_text(
        "rejected (nothing to resume"
    )
    expect(page.locator("#batch-message")).to_contain_text("2 accepted, 1 rejected")
    expect(kai).to_contain_text("running")
    page.screenshot(path=output_dir / "batch-view.png", full_page=True)  # docs/batch-view.png

    expect(kai).to_contain_text("all 4 phases done", timeout=RUN_DEADLINE_MS)
    expect(harbour).to_contain_text("all 4 phases done", timeout=RUN_DEADLINE_MS)
    expect(page.locator(".batch-meta")).to_contain_text("3 completed")
    # Only the job that never had Step 5 is still selectable work: the rest are done.
    expect(pies.locator("td").last).to_contain_text("action required")
    page.screenshot(path=output_dir / "batch-view-done.png", full_page=True)


def failed_job(api: LocalApi, org: str, page: Page, name: str) -> str:
    """A job whose Step 6 failed at Phase 2, open in the page with Resume enabled."""
    created = api.create_batch(org, f"{name} batch", [name])
    job_id: str = created["jobs"][0]["job_id"]
    api.fault(sub_step="restaurantRegistration", mode="fail", job_id=job_id)
    api.submit_step5(org, created["batch_id"], {job_id: name})
    open_page(page, api, org, f"#/jobs/{job_id}")
    expect(page.locator("#last-failure")).to_contain_text(
        "Step 6 failed in Phase 2", timeout=RUN_DEADLINE_MS
    )
    expect(page.get_by_role("button", name="Resume Step 6")).to_be_enabled()
    return job_id


def test_resume_while_running_says_already_running(page: Page, api: LocalApi, org: str) -> None:
    job_id = failed_job(api, org, page, "Cafe Aroha")
    # Someone else resumes it first; a slow call holds that run open.
    api.fault(sub_step="restaurantRegistration", mode="latency", latency_ms=4000, job_id=job_id)
    status, started = api.request(
        "POST", f"/registration-batches/jobs/{job_id}/resume-step-6", org=org
    )
    assert status == 202, started

    # From the keyboard: focus the (still enabled, stale) button and press Enter.
    resume = page.get_by_role("button", name="Resume Step 6")
    resume.focus()
    page.keyboard.press("Enter")
    message = page.locator("#resume-message")
    expect(message).to_contain_text("Already running")
    expect(message).to_have_attribute("role", "alert")
    # The page learns of the active run: Resume stays disabled while it lasts.
    expect(resume).to_be_disabled()
    expect(page.locator("#run-status")).to_contain_text("Step 6 is running")
    expect(page.locator("#resume-hint")).to_contain_text("disabled until it ends")
    expect(page.locator("#run-status")).to_contain_text("Step 6 completed", timeout=RUN_DEADLINE_MS)
    expect(resume).to_be_hidden()


def test_a_failed_request_never_leaves_the_page_stuck(page: Page, api: LocalApi, org: str) -> None:
    job_id = failed_job(api, org, page, "Moana Pies")
    resume = page.get_by_role("button", name="Resume Step 6")
    message = page.locator("#resume-message")
    pattern = f"**/registration-batches/jobs/{job_id}/resume-step-6"

    page.route(pattern, lambda route: route.abort("connectionrefused"))
    resume.click()
    expect(message).to_contain_text("Could not reach the server")
    expect(resume).to_be_enabled()
    page.unroute(pattern)

    page.route(
        pattern,
        lambda route: route.fulfill(
            status=503,
            content_type="application/json",
            body='{"statusCode": 503, "error": "start_failed", "message": "could not start"}',
        ),
    )
    resume.click()
    expect(message).to_contain_text("could not be started just now")
    expect(resume).to_be_enabled()
    page.unroute(pattern)

    resume.click()
    expect(page.locator("#run-status")).to_contain_text(
        re.compile("Resuming from Phase 2|Resumed from Phase 2")
    )
    expect(page.locator("#run-status")).to_contain_text("Step 6 completed", timeout=RUN_DEADLINE_MS)


def test_step5_errors_from_the_api_are_shown_and_can_be_fixed(
    page: Page, api: LocalApi, org: str
) -> None:
    created = api.create_batch(org, "Validation", ["Te Aro Tacos"])
    job_id = created["jobs"][0]["job_id"]
    open_page(page, api, org, f"#/jobs/{job_id}")
    submit = page.get_by_role("button", name="Submit Step 5 and start Step 6")
    # Long enough for the browser, but no digit: the API's password rule refuses it.
    page.get_by_label("Account password").fill("no-digits-in-here")
    submit.click()
    message = page.locator("#step5-message")
    expect(message).to_contain_text("The server did not accept this")
    expect(message).to_contain_text("password")
    expect(submit).to_be_enabled()
    expect(page.get_by_label("Account email")).to_be_editable()

    page.get_by_label("Account password").fill("4-digits-now-1234")
    submit.click()
    expect(page.locator("#step5-locked-note")).to_be_visible(timeout=RUN_DEADLINE_MS)
    expect(page.locator("#run-status")).to_contain_text("Step 6 completed", timeout=RUN_DEADLINE_MS)


def test_sign_in_form_remembers_the_org_and_scopes_what_it_sees(
    page: Page, api: LocalApi, org: str
) -> None:
    created = api.create_batch(org, "Mine", ["Cafe Aroha"])
    page.goto(api.url + "/")
    org_field = page.get_by_label("Organisation id")
    expect(org_field).to_be_focused()
    org_field.fill("not an org!")
    org_field.press("Enter")
    assert org_field.evaluate("input => !input.checkValidity()")
    expect(org_field).to_be_visible()
    org_field.fill(org)
    org_field.press("Enter")
    expect(page.get_by_role("heading", name="Registration batches", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Mine")).to_be_visible()
    expect(page.locator("#session")).to_contain_text(org)

    page.reload()
    expect(page.get_by_role("link", name="Mine")).to_be_visible()

    # Another org sees neither the batch in its list nor the batch by its address.
    page.goto(f"{api.url}/?org=someone-else#/batches/{created['batch_id']}")
    expect(page.locator("[role=alert]")).to_contain_text("Not found")
    page.get_by_role("link", name="Back to all batches").click()
    expect(page.locator("#batch-list")).to_contain_text("No batches yet")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Organisation id")).to_be_visible()

    # An org id the server refuses (401) brings the sign-in form back, with the reason.
    page.goto(f"{api.url}/?org=bad%20org#/batches")
    expect(page.locator("[role=alert]")).to_contain_text("The server refused this org id")
    expect(page.get_by_label("Organisation id")).to_be_visible()


def test_narrow_screen_stays_readable(
    page: Page, api: LocalApi, org: str, output_dir: Path
) -> None:
    job_id = failed_job(api, org, page, "Harbour Dumplings")
    page.set_viewport_size(NARROW)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= NARROW["width"], f"the job view scrolls sideways at 375 px ({width} px)"
    expect(page.get_by_role("button", name="Resume Step 6")).to_be_visible()
    page.screenshot(path=output_dir / "job-view-narrow.png", full_page=True)

    page.get_by_role("link", name="Batch", exact=True).click()
    expect(job_row(page, "Harbour Dumplings")).to_contain_text("failed at Phase 2")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= NARROW["width"], f"the batch view scrolls sideways at 375 px ({width} px)"
    page.screenshot(path=output_dir / "batch-view-narrow.png", full_page=True)
    expect(page).to_have_url(re.compile(r"#/batches/\w+$"))
    assert job_id

    # Status is never colour alone: every chip carries a word and a glyph.
    chips = page.locator(".chip")
    assert chips.count() > 0
    for text in chips.all_inner_texts():
        assert re.search(r"[a-z]{3,}", text), f"a status chip without words: {text!r}"
