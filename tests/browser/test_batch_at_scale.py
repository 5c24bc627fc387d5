"""The page at scale (issue 13), in Chromium against the local server: a batch of 200 jobs paged,
filtered, searched and sorted on the server; bulk Step 5 from one form; the Failures panel;
"Select all N matching" as one operation; the Operations view with progress and Cancel.

Every wait is Playwright's `expect` with a deadline; the page's own polling brings new state.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import LocalApi

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
RUN_DEADLINE_MS = 60_000
KINDS = ["Aroha", "Harbour", "Moana", "Kai"]
DASH = "\N{EN DASH}"  # the page writes ranges with an en dash


def restaurant_names(count: int, prefix: str) -> list[str]:
    """Distinct names, a quarter of them with each kind ("… Harbour 001", …), not in name order."""
    return [f"{prefix} {KINDS[i % len(KINDS)]} {(i * 37) % count:03d}" for i in range(count)]


def open_page(page: Page, api: LocalApi, org: str, route: str) -> None:
    page.goto(f"{api.url}/?org={org}{route}")


def rows(page: Page) -> Locator:
    return page.locator("#job-rows tr.job-row")


def row_names(page: Page) -> list[str]:
    return rows(page).locator("th a").all_inner_texts()


def confirm(page: Page, sentence: str, concurrency: int | None = None) -> None:
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    if concurrency is not None:
        dialog.get_by_label("At most this many at a time").fill(str(concurrency))
    expect(dialog.locator("#confirm-sentence")).to_have_text(sentence)
    dialog.get_by_role("button", name="Start").click()
    expect(dialog).to_have_count(0)


def follow_operation(page: Page, message: Locator) -> None:
    expect(message).to_contain_text("Operation started")
    message.get_by_role("link", name="Follow it in Operations").click()
    expect(page).to_have_url(re.compile(r"#/operations/[\w-]+$"))


def expect_settled(page: Page, counts: dict[str, int], deadline_ms: int = 60_000) -> None:
    bar = page.locator("#operation-progress .progress")
    expect(bar).to_have_attribute("data-percent", "100", timeout=deadline_ms)
    expect(page.locator("#operation-status")).to_contain_text("completed", timeout=deadline_ms)
    for outcome, n in counts.items():
        expect(page.locator(f'#operation-progress li[data-count="{outcome}"]')).to_contain_text(
            f"{n} {outcome}"
        )


def copy_to_docs(output_dir: Path, name: str) -> None:
    shutil.copyfile(output_dir / name, DOCS / name)


def test_200_jobs_page_filter_search_sort_and_bulk_step5(
    page: Page, api: LocalApi, org: str, output_dir: Path
) -> None:
    names = restaurant_names(200, "Bistro")
    created = api.create_batch(org, "Auckland 200", names)
    batch_id = created["batch_id"]

    open_page(page, api, org, f"#/batches/{batch_id}")
    expect(page.get_by_role("heading", name="Auckland 200", level=1)).to_be_visible()
    expect(page.locator("#match-count")).to_have_text("200 matching jobs")
    expect(page.locator("#page-text")).to_have_text(f"Jobs 1{DASH}50 of 200 · page 1 of 4")
    expect(rows(page)).to_have_count(50)

    # Paging reaches the last page, and comes back.
    for n in (2, 3, 4):
        page.get_by_role("button", name="Next").click()
        expect(page.locator("#page-text")).to_contain_text(f"page {n} of 4")
    expect(page.locator("#page-text")).to_have_text(f"Jobs 151{DASH}200 of 200 · page 4 of 4")
    expect(page.get_by_role("button", name="Next")).to_be_disabled()
    expect(rows(page)).to_have_count(50)
    page.get_by_role("button", name="Previous").click()
    expect(page.locator("#page-text")).to_contain_text("page 3 of 4")

    # Sorting by name: the first page is the first 50 names in order (and back to page 1).
    page.get_by_label("Sort by").select_option("name")
    expect(page.locator("#page-text")).to_contain_text("page 1 of 4")
    expect(rows(page).first.locator("th a")).to_have_text(sorted(names)[0])
    assert row_names(page) == sorted(names)[:50]
    # The column header sorts too: a second press on Restaurant reverses the order.
    header = page.locator("#job-rows thead th", has=page.locator('button[data-sort="name"]'))
    expect(header).to_have_attribute("aria-sort", "ascending")
    header.get_by_role("button").click()
    expect(rows(page).first.locator("th a")).to_have_text(sorted(names)[-1])
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(page.get_by_label("Order")).to_have_value("desc")

    # The search box (debounced) asks the server: only matching rows, the right total.
    page.get_by_role("searchbox", name="Search").fill("harbour")
    expect(page.locator("#match-count")).to_have_text("50 matching jobs")
    expect(page.locator("#page-text")).to_have_text(f"Jobs 1{DASH}50 of 50 · page 1 of 1")
    assert all("Harbour" in n for n in row_names(page))
    page.get_by_role("searchbox", name="Search").fill("")
    expect(page.locator("#match-count")).to_have_text("200 matching jobs")

    # Bulk Step 5 for all 200 from ONE form, passwords generated: one operation.
    page.get_by_role("button", name="Select all 200 matching").click()
    expect(page.locator("#selection-text")).to_have_text("All 200 matching jobs are selected.")
    page.get_by_role("button", name="Bulk Step 5 (200)…").click()
    form = page.locator("#bulk5-form")
    expect(form.get_by_label("Generate a password for each account")).to_be_checked()
    expect(form.get_by_label("One password for all the accounts")).to_be_disabled()
    form.locator("#bulk5-emails summary").click()
    first_email = form.locator("#bulk5-emails tbody input").first
    expect(first_email).to_have_value(re.compile(r"^owner@bistro-.+\.example$"))
    form.get_by_label("At most this many at a time").fill("10")
    page.screenshot(path=output_dir / "bulk-step5-form.png", full_page=True)
    form.get_by_role("button", name="Submit Step 5 for 200 jobs").click()
    follow_operation(page, page.locator("#bulk5-message"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Submit Step 5 · 200 jobs")
    expect(page.locator("#operation-progress")).to_contain_text("200 matched")
    succeeded = page.locator('#operation-progress li[data-count="succeeded"]')
    expect(succeeded).to_be_visible(timeout=RUN_DEADLINE_MS)  # the first runs settle
    page.screenshot(path=output_dir / "operation-progress.png", full_page=False)
    copy_to_docs(output_dir, "operation-progress.png")

    # Cancel while it runs: no further job starts; the started runs finish.
    cancel = page.get_by_role("button", name="Cancel operation")
    cancel.click()
    expect(page.locator("#operation-message")).to_contain_text("Cancelled")
    expect(page.locator("#operation-status")).to_contain_text("cancelled", timeout=RUN_DEADLINE_MS)
    expect(cancel).to_be_hidden()
    expect(page.locator("#operation-progress .progress")).to_have_attribute("data-percent", "100")
    expect(page.locator('#operation-progress li[data-count="cancelled"]')).to_be_visible()
    page.get_by_label("Outcome").select_option("cancelled")
    expect(page.locator("tr.outcome-row").first).to_contain_text("cancelled")

    # The one operation is in the list, with its bar.
    page.get_by_role("link", name="Operations", exact=True).click()
    listed = page.locator("tr.operation-row")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("Submit Step 5")
    expect(listed).to_contain_text("cancelled")

    # Back on the batch: some jobs are done (first five steps folded), the rest wait for Step 5.
    open_page(page, api, org, f"#/batches/{batch_id}")
    page.get_by_label("Step 6", exact=True).select_option("completed")
    expect(rows(page).first).to_contain_text(f"Steps 1{DASH}5")
    page.get_by_label("Step 6", exact=True).select_option("")
    expect(page.locator("#match-count")).to_have_text("200 matching jobs")
    page.screenshot(path=output_dir / "batch-view-200.png", full_page=False)
    copy_to_docs(output_dir, "batch-view-200.png")


def failed_batch(
    api: LocalApi, org: str, name: str, count: int, failing: dict[str, int]
) -> tuple[str, dict[str, str]]:
    """A batch with Step 5 submitted, `failing[sub_step]` of its jobs set to fail there:
    (batch id, restaurant name -> job id)."""
    names = restaurant_names(count, name)
    created = api.create_batch(org, name, names)
    ids = {j["restaurant_name"]: j["job_id"] for j in created["jobs"]}
    pool = iter(names)
    for sub_step, n in failing.items():
        for _ in range(n):
            api.fault(sub_step=sub_step, mode="fail", job_id=ids[next(pool)])
    api.submit_step5(org, created["batch_id"], {job_id: n for n, job_id in ids.items()})
    return created["batch_id"], ids


def test_failures_panel_resumes_a_group_and_select_all_matching_resumes_the_rest(
    page: Page, api: LocalApi, org: str, output_dir: Path
) -> None:
    batch_id, _ = failed_batch(
        api, org, "Kapiti", 12, {"restaurantRegistration": 4, "optionSets": 2}
    )
    open_page(page, api, org, f"#/batches/{batch_id}")
    groups = page.locator("#failures-panel tr.failure-group")
    expect(groups).to_have_count(2, timeout=RUN_DEADLINE_MS)

    # The org-wide panel of the batches list groups them too (shown only, no actions).
    page.get_by_role("link", name="All batches").click()
    page.locator("#org-failures summary").click()
    org_groups = page.locator("#org-failures tr.failure-group")
    expect(org_groups).to_have_count(2)
    expect(org_groups.get_by_role("button")).to_have_count(0)
    page.get_by_role("link", name="Kapiti").click()
    expect(groups).to_have_count(2)
    registration = groups.filter(has_text="restaurantRegistration")
    expect(registration.locator("td").nth(2)).to_have_text("4")
    expect(registration).to_contain_text("Phase 2 · Restaurant registration")
    expect(registration).to_contain_text("platform_rejected")
    expect(groups.filter(has_text="optionSets").locator("td").nth(2)).to_have_text("2")
    page.screenshot(path=output_dir / "failures-panel.png", full_page=False)
    copy_to_docs(output_dir, "failures-panel.png")

    # "Show" filters the job list to the group.
    registration.get_by_role("button", name=re.compile("^Show")).click()
    expect(page.get_by_label("Failed sub-step")).to_have_value("restaurantRegistration")
    expect(page.locator("#match-count")).to_have_text("4 matching jobs")
    expect(rows(page)).to_have_count(4)
    failing = set(row_names(page))
    for row in rows(page).all():
        expect(row).to_contain_text("failed at Phase 2 · Restaurant registration")
        expect(row).to_contain_text("platform_rejected")

    # "Resume these 4": confirmed, then one operation for exactly those four.
    registration.get_by_role("button", name="Resume these 4").click()
    confirm(page, "Resume Step 6 for 4 jobs, at most 25 at a time")
    follow_operation(page, page.locator("#failures-message"))
    expect(page.locator("#operation-progress")).to_contain_text("4 matched")
    expect_settled(page, {"succeeded": 4}, RUN_DEADLINE_MS)
    outcomes = page.locator("tr.outcome-row")
    expect(outcomes).to_have_count(4)
    assert set(outcomes.locator("th a").all_inner_texts()) == failing

    # The rest by filter: Step 6 failed, all matching, one operation.
    # Back: the batch view as it was left, its filter in the address.
    page.go_back()
    expect(page).to_have_url(
        re.compile(f"#/batches/{batch_id}\\?.*failed_sub_step=restaurantRegistration")
    )
    expect(page.get_by_label("Failed sub-step")).to_have_value("restaurantRegistration")
    page.get_by_role("button", name="Clear filters").click()
    expect(page.locator("#match-count")).to_have_text("12 matching jobs")
    page.get_by_label("Step 6", exact=True).select_option("failed")
    expect(page.locator("#match-count")).to_have_text("2 matching jobs", timeout=RUN_DEADLINE_MS)
    page.get_by_role("button", name="Select all 2 matching").click()
    page.get_by_role("button", name="Resume all 2 matching…").click()
    confirm(page, "Resume Step 6 for 2 jobs, at most 5 at a time", concurrency=5)
    follow_operation(page, page.locator("#batch-message"))
    expect_settled(page, {"succeeded": 2}, RUN_DEADLINE_MS)

    page.get_by_role("link", name="All operations").click()
    expect(page.locator("tr.operation-row")).to_have_count(2)
    for bar in page.locator("tr.operation-row .progress").all():
        expect(bar).to_have_attribute("data-percent", "100")


def test_explicit_resume_never_leaves_rejected_jobs_ticked(
    page: Page, api: LocalApi, org: str
) -> None:
    batch_id, _ = failed_batch(api, org, "Otaki", 5, {"restaurantRegistration": 2})
    open_page(page, api, org, f"#/batches/{batch_id}")
    expect(page.locator("#failures-panel tr.failure-group")).to_have_count(
        1, timeout=RUN_DEADLINE_MS
    )
    expect(page.locator("#job-rows")).not_to_contain_text("running", timeout=RUN_DEADLINE_MS)
    page.get_by_label("Select this page").check()
    resume = page.locator("#resume-selected")
    expect(resume).to_have_text("Resume selected (5)")
    resume.click()
    expect(page.locator("#batch-message")).to_contain_text("2 accepted, 3 rejected")
    expect(page.locator("#resume-results .result--rejected")).to_have_count(3)
    # Nothing stays ticked, and the button offers nothing.
    expect(page.locator("#job-rows input[data-job-id]:checked")).to_have_count(0)
    expect(resume).to_have_text("Resume selected")
    expect(resume).to_be_disabled()
