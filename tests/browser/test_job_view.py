"""The job view drawn around the failure: the failure card with advice and the actions that
apply on the first screen, the operator's fixes (fix configuration, re-run, skip, cancel), Step 6
as its dependency graph, the runs as a timeline, actors, and `completed_with_errors`.

Every wait is Playwright's auto-waiting `expect` with a deadline; the page's own polling brings
the new state in. Screenshots go to test-output/ (the ones named after docs/ files are copied
there).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, Route, expect

from domain.catalogue import dependents_of
from local.samples import config_data
from tests.browser.conftest import LocalApi

RUN_DEADLINE_MS = 45_000
WIDE = {"width": 1440, "height": 900}
# The catalogue's depends_on edges (frontend/js/catalogue.gen.js).
EDGES = 9


def open_job(page: Page, api: LocalApi, org: str, job_id: str, user: str = "") -> None:
    who = f"&user={user}" if user else ""
    page.goto(f"{api.url}/?org={org}{who}#/jobs/{job_id}")


def submit(
    api: LocalApi, org: str, batch_id: str, job_id: str, name: str, **overrides: Any
) -> None:
    body = {"jobs": [{"job_id": job_id, "execution_config": config_data(name, **overrides)}]}
    answer = api.call("POST", f"/registration-batches/{batch_id}/step-5", body, org)
    assert not answer["rejected"], answer


def wait_settled(api: LocalApi, org: str, job_id: str) -> dict[str, Any]:
    """The job once its run has ended (arranging over HTTP, before the page is opened)."""
    deadline = time.monotonic() + RUN_DEADLINE_MS / 1000
    while time.monotonic() < deadline:
        job = api.job(org, job_id)
        if not job.get("active_execution") and job["step6"]["status"] != "in_progress":
            return job
        time.sleep(0.25)  # polling the local server while a run ends, not waiting on the page
    raise AssertionError(f"job {job_id} still running")


def within_viewport(locator: Locator, height: int = WIDE["height"]) -> None:
    box = locator.bounding_box()
    assert box is not None, f"{locator} has no box"
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, (
        f"{locator} is below the fold: {box}"
    )
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDE["width"], box


def answering_once(status: int, body: object) -> Callable[[Route], None]:
    answered: list[bool] = []

    def fulfil(route: Route) -> None:
        if answered:
            route.continue_()
            return
        answered.append(True)
        route.fulfill(status=status, content_type="application/json", body=json.dumps(body))

    return fulfil


def account_fault(api: LocalApi, job_id: str) -> bool:
    """A permanent platform refusal of the account; with the platform's `email_taken` code when
    the simulator takes one (it answers 422 to a field it does not know yet)."""
    spec = {"sub_step": "cloudwaitressAccount", "mode": "fail", "job_id": job_id}
    status, _ = api.request("POST", "/__sim/faults", spec | {"platform_code": "email_taken"})
    if 200 <= status < 300:
        return True
    api.fault(**spec)
    return False


def expect_runs(page: Page, *rows: list[str]) -> Locator:
    """The runs timeline shows these rows, in order, each containing its texts."""
    runs = page.locator("#runs-list > li")
    expect(runs).to_have_count(len(rows))
    for i, texts in enumerate(rows):
        for text in texts:
            expect(runs.nth(i)).to_contain_text(text)
    return runs


# ---------------------------------------------------------------------- failure card, fix, resume


def test_failure_card_and_actions_on_the_first_screen_then_fix_config_and_resume(
    page: Page, api: LocalApi, org: str, output_dir: Path
) -> None:
    created = api.create_batch(org, "Fix and resume", ["Cafe Aroha"])
    batch_id, job_id = created["batch_id"], created["jobs"][0]["job_id"]
    coded = account_fault(api, job_id)
    # No onboarding user: nothing completed reads account.email, so it may still change.
    submit(
        api,
        org,
        batch_id,
        job_id,
        "Cafe Aroha",
        onboarding={"createOnboardingUser": False, "syncOnboardingRecord": False},
    )
    wait_settled(api, org, job_id)

    page.set_viewport_size(WIDE)
    open_job(page, api, org, job_id)
    failure = page.locator("#last-failure")
    expect(failure).to_contain_text("cloudwaitressAccount · Platform account failed")
    expect(failure).to_contain_text("Step 6 failed in Phase 1")
    expect(failure).to_contain_text("platform_rejected")
    advice = page.locator("#failure-advice")
    expect(advice).to_contain_text("What to do")
    expect(advice).to_contain_text("account.email")
    if coded:
        expect(advice).to_contain_text("already registered — fix the account email, then resume")
    else:
        expect(advice).to_contain_text("fix the configuration, then resume")
    resume = page.get_by_role("button", name="Resume Step 6")
    fix = page.get_by_role("button", name="Fix configuration")
    rerun = page.get_by_role("button", name="Re-run…")
    expect(resume).to_be_enabled()
    expect(fix).to_be_visible()
    expect(rerun).to_be_visible()  # codeGeneration and uploadImages completed
    expect(page.get_by_role("button", name="Skip…")).to_be_hidden()  # the failure is blocking
    expect(page.get_by_role("button", name="Cancel run")).to_be_hidden()
    # The failure, its advice and every action fit the first screen at 1440x900.
    page.evaluate("window.scrollTo(0, 0)")
    for element in (failure, advice, resume, fix, rerun):
        within_viewport(element)
    # The advice puts Fix configuration first; Step 5 (completed) sits below Step 6.
    expect(page.locator("#actions-row button:visible").first).to_have_text("Fix configuration")
    step5 = page.locator("#step5").bounding_box()
    actions = page.locator("#actions-row").bounding_box()
    assert step5 and actions and step5["y"] > actions["y"]
    page.screenshot(path=output_dir / "job-view.png")  # docs/job-view.png

    # Fix configuration offers only what no completed sub-step has read.
    fix.click()
    expect(fix).to_have_attribute("aria-expanded", "true")
    form = page.locator("#fix-config-form")
    email = form.locator("#fix-account-email")
    # The fields the advice names come first.
    first = "#fix-account-email" if coded else "#fix-account-registerNewUser"
    expect(form.locator(first)).to_be_focused()
    expect(email).to_have_value("owner@cafe-aroha.example")
    expect(form.locator("#fix-menu-uploadImages")).to_have_count(0)  # uploadImages completed
    expect(form.locator("#fix-steps_enabled-codeGeneration")).to_have_count(0)
    expect(form.locator("#fix-menu-addItemTags")).to_have_count(1)
    form.locator("#fix-locked summary").click()
    expect(form.locator("#fix-locked")).to_contain_text("menu.uploadImages — read by uploadImages")

    # An error is told next to the form, from its code (the message says otherwise).
    config_path = f"**/registration-batches/jobs/{job_id}/execution-config"
    refusal = {
        "statusCode": 409,
        "error": "config_in_use",
        "message": "all fine",
        "fields": [
            {
                "field": "account.email",
                "message": "x",
                "type": "config_in_use",
                "used_by": ["createOnboardingUser"],
            }
        ],
    }
    page.route(config_path, answering_once(409, refusal))
    email.fill("owner-two@cafe-aroha.example")
    form.get_by_role("button", name="Save configuration").click()
    message = page.locator("#config-message")
    expect(message).to_contain_text("can no longer change")
    expect(message).to_contain_text("account.email (read by createOnboardingUser)")
    expect(message).to_have_attribute("role", "alert")

    # Saved for real this time: Resume is next.
    form.get_by_role("button", name="Save configuration").click()
    expect(page.locator("#resume-message")).to_contain_text("Configuration saved (account.email)")
    expect(form).to_have_count(0)
    page.unroute(config_path)
    stored = api.job(org, job_id)["execution_config"]["account"]["email"]
    assert stored == "owner-two@cafe-aroha.example"

    resume.click()
    expect(page.locator("#run-status")).to_contain_text("Step 6 completed", timeout=RUN_DEADLINE_MS)
    expect(page.locator(".job-facts")).to_contain_text("completed")
    expect(resume).to_be_hidden()
    expect(failure).to_be_empty()
    expect_runs(
        page,
        ["Run 1", "Failed here: cloudwaitressAccount"],
        ["Run 2", "trigger: resumed"],
    )


# ---------------------------------------------------------------------- re-run, runs, actors


def test_rerun_shows_what_else_reruns_starts_a_run_and_the_actors_are_shown(
    page: Page, api: LocalApi, org: str, output_dir: Path
) -> None:
    created = api.create_batch(org, "Re-run", ["Kai Kitchen"])
    batch_id, job_id = created["batch_id"], created["jobs"][0]["job_id"]
    submit(api, org, batch_id, job_id, "Kai Kitchen")
    assert wait_settled(api, org, job_id)["step6"]["status"] == "completed"

    page.set_viewport_size(WIDE)
    open_job(page, api, org, job_id, user="alice")
    expect(page.locator("#session")).to_contain_text("alice")
    expect(page.get_by_role("button", name="Resume Step 6")).to_be_hidden()
    rerun = page.get_by_role("button", name="Re-run…")
    rerun.click()
    form = page.locator("#rerun-form")
    submit_button = form.get_by_role("button", name="Re-run selected")
    expect(submit_button).to_be_disabled()
    # Non-re-runnable sub-steps are not offered.
    expect(form.locator("#rerun-cloudwaitressAccount")).to_have_count(0)
    expect(form.locator("#rerun-restaurantRegistration")).to_have_count(0)
    form.get_by_label(re.compile("^menuImport")).check()
    closure = page.locator("#rerun-closure")
    expect(closure).to_contain_text("Will re-run 3: menuImport, optionSets, itemTags")
    expect(page.locator("#rerun-also")).to_contain_text("optionSets, itemTags")
    form.get_by_label(re.compile("^codeGeneration")).check()
    expect(closure).to_contain_text(
        "Will re-run 5: codeGeneration, websiteConfig, menuImport, optionSets, itemTags"
    )

    # A slow call holds the re-run open long enough to see it running.
    api.fault(sub_step="websiteConfig", mode="latency", latency_ms=2500, job_id=job_id)
    submit_button.click()
    message = page.locator("#resume-message")
    expect(message).to_contain_text("Re-run started from Phase 1")
    expect(message).to_contain_text(
        "codeGeneration, websiteConfig, menuImport, optionSets, itemTags"
    )
    expect(page.locator("#run-status")).to_contain_text("Step 6 completed", timeout=RUN_DEADLINE_MS)

    runs = expect_runs(
        page,
        ["trigger: Step 5 submitted", "actor: local-user"],
        ["Run 2", "trigger: re-run", "actor: alice", "completed"],
    )
    # A bar per sub-step attempt: Run 2 ran the five reset ones.
    expect(runs.nth(1).locator(".run-lane")).to_have_count(5)
    expect(runs.nth(0).locator(".run-lane")).to_have_count(12)
    runs_card = page.locator("#runs")
    runs_card.scroll_into_view_if_needed()
    runs_card.screenshot(path=output_dir / "job-view-runs.png")  # docs/job-view-runs.png

    # The audit trail names who did what.
    page.locator("#events summary").click()
    events = page.locator("#events-body li")
    expect(events.filter(has_text="rerun requested")).to_contain_text("by alice")
    expect(events.filter(has_text="run succeeded").first).to_contain_text("by system")


# ---------------------------------------------------------------------- skip, completed_with_errors


def test_completed_with_errors_everywhere_then_skip_with_a_reason(
    page: Page, api: LocalApi, org: str, output_dir: Path
) -> None:
    created = api.create_batch(org, "With errors", ["Te Aro Tacos", "Moana Pies"])
    ids = {j["restaurant_name"]: j["job_id"] for j in created["jobs"]}
    batch_id, job_id = created["batch_id"], ids["Te Aro Tacos"]
    api.fault(sub_step="paymentConfig", mode="fail", job_id=job_id)
    api.submit_step5(org, batch_id, {v: k for k, v in ids.items()})
    for each in ids.values():
        wait_settled(api, org, each)
    assert api.job(org, job_id)["step6"]["status"] == "completed_with_errors"

    # The batch list and the batch view: never "completed" for such a job.
    page.set_viewport_size(WIDE)
    page.goto(f"{api.url}/?org={org}&user=bob#/batches")
    listed = page.locator("tr", has=page.get_by_role("link", name="With errors"))
    expect(listed).to_contain_text("completed with errors")
    expect(listed).to_contain_text("1 completed with errors")
    listed.get_by_role("link", name="With errors").click()
    row = page.locator("tr.job-row").filter(
        has=page.get_by_role("link", name="Te Aro Tacos", exact=True)
    )
    expect(row.locator(".step6-cell")).to_contain_text("completed with errors")
    expect(row.locator("td").last).to_contain_text("completed with errors")
    other = page.locator("tr.job-row").filter(
        has=page.get_by_role("link", name="Moana Pies", exact=True)
    )
    expect(other.locator("td").last).to_have_text(re.compile(r"completed$"))
    expect(page.locator(".batch-meta")).to_contain_text("1 completed with errors")
    expect(page.locator(".batch-meta")).to_contain_text("1 completed")
    page.screenshot(path=output_dir / "batch-view-with-errors.png")

    # The job view: Step 6, the job's status, the phase and the steps all agree.
    row.get_by_role("link", name="Te Aro Tacos").click()
    expect(page.locator(".job-facts")).to_contain_text("completed with errors")
    expect(page.locator("#timeline li").nth(5)).to_contain_text("completed with errors")
    expect(page.locator("#phase-2")).to_have_attribute("data-status", "completed_with_errors")
    failure = page.locator("#last-failure")
    expect(failure).to_contain_text("paymentConfig · Payment configuration failed")
    skip = page.get_by_role("button", name="Skip…")
    expect(skip).to_be_visible()
    within_viewport(skip)
    expect(page.get_by_role("button", name="Resume Step 6")).to_be_enabled()

    skip.click()
    form = page.locator("#skip-form")
    expect(form.get_by_label(re.compile("^paymentConfig"))).to_be_checked()
    # Blocking sub-steps are never offered.
    expect(form.locator("input[type=radio]")).to_have_count(1)
    form.get_by_role("button", name="Skip sub-step").click()
    expect(page.locator("#skip-message")).to_contain_text("Give a reason")
    form.get_by_label("Reason for skipping").fill("Payments are set up by hand for this restaurant")
    form.get_by_role("button", name="Skip sub-step").click()
    expect(page.locator("#resume-message")).to_contain_text("paymentConfig skipped")

    # Nothing else was left: the job is complete and no longer resumable.
    expect(page.get_by_role("button", name="Resume Step 6")).to_be_hidden()
    expect(page.get_by_role("button", name="Skip…")).to_be_hidden()
    expect(page.locator(".job-facts")).to_contain_text("completed")
    expect(page.locator(".job-facts")).not_to_contain_text("with errors")
    payment = page.locator('#phase-2 tr[data-sub-step="paymentConfig"]')
    expect(payment).to_contain_text("Skipped by an operator")
    expect(payment).to_contain_text("Payments are set up by hand")
    expect(payment).to_contain_text("bob")
    job = api.job(org, job_id)
    assert job["resumable"] is False and job["status"] == "completed"
    page.locator("#events summary").click()
    expect(page.locator("#events-body li").filter(has_text="sub step skipped")).to_contain_text(
        "by bob"
    )


def test_skip_refusals_are_told_by_their_code(page: Page, api: LocalApi, org: str) -> None:
    created = api.create_batch(org, "Skip codes", ["Harbour Dumplings"])
    batch_id, job_id = created["batch_id"], created["jobs"][0]["job_id"]
    api.fault(sub_step="servicesConfig", mode="fail", job_id=job_id)
    submit(api, org, batch_id, job_id, "Harbour Dumplings")
    wait_settled(api, org, job_id)
    open_job(page, api, org, job_id)
    page.get_by_role("button", name="Skip…").click()
    page.route(
        f"**/registration-batches/jobs/{job_id}/sub-steps/servicesConfig/skip",
        answering_once(409, {"statusCode": 409, "error": "not_failed", "message": "all good"}),
    )
    page.get_by_label("Reason for skipping").fill("not needed")
    page.get_by_role("button", name="Skip sub-step").click()
    message = page.locator("#skip-message")
    expect(message).to_contain_text("Only a failed (or dependency-skipped) sub-step can be skipped")
    expect(message).to_have_attribute("role", "alert")


# ---------------------------------------------------------------------- cancel


def test_cancel_while_running(page: Page, api: LocalApi, org: str) -> None:
    created = api.create_batch(org, "Cancel", ["Moana Pies"])
    batch_id, job_id = created["batch_id"], created["jobs"][0]["job_id"]
    api.fault(sub_step="restaurantRegistration", mode="latency", latency_ms=6000, job_id=job_id)
    submit(api, org, batch_id, job_id, "Moana Pies")

    open_job(page, api, org, job_id, user="carol")
    cancel = page.get_by_role("button", name="Cancel run")
    expect(cancel).to_be_visible()
    expect(page.get_by_role("button", name="Fix configuration")).to_be_hidden()
    cancel.click()
    expect(page.locator("#cancel-message")).to_contain_text("Cancel requested")
    # The run settles as aborted, resumable; the card says what happened and what to do.
    failure = page.locator("#last-failure")
    expect(failure).to_contain_text("aborted", timeout=RUN_DEADLINE_MS)
    expect(page.locator("#failure-advice")).to_contain_text("cancelled — resume when you are ready")
    expect(cancel).to_be_hidden()
    expect(page.get_by_role("button", name="Resume Step 6")).to_be_enabled()
    runs = page.locator("#runs-list > li")
    expect(runs.first).to_contain_text("cancelled")
    page.locator("#events summary").click()
    expect(page.locator("#events-body li").filter(has_text="cancel requested")).to_contain_text(
        "by carol"
    )

    # Cancelling once the run has ended is refused with its code.
    status, body = api.request("POST", f"/registration-batches/jobs/{job_id}/cancel", org=org)
    assert status == 409 and body["error"] == "not_running", body


# ---------------------------------------------------------------------- the graph


def test_the_dependency_graph(page: Page, api: LocalApi, org: str, output_dir: Path) -> None:
    created = api.create_batch(org, "Graph", ["Kai Kitchen"])
    batch_id, job_id = created["batch_id"], created["jobs"][0]["job_id"]
    api.fault(sub_step="restaurantRegistration", mode="fail", job_id=job_id)
    submit(api, org, batch_id, job_id, "Kai Kitchen")
    wait_settled(api, org, job_id)
    page.set_viewport_size(WIDE)
    open_job(page, api, org, job_id)

    graph = page.locator("#step6-graph")
    nodes = graph.locator(".graph-node")
    expect(nodes).to_have_count(12)
    names = nodes.evaluate_all("ns => ns.map(n => n.dataset.subStep)")
    assert "restaurantRegistration" in names and len(set(names)) == 12
    for name in names:
        expect(graph.locator(f"#graph-node-{name} .graph-node-name")).to_have_text(name)
    expect(graph.locator(".graph-edge")).to_have_count(EDGES)
    expect(graph.locator(".graph-phase")).to_have_count(4)
    expect(
        graph.locator(
            '.graph-edge[data-from="cloudwaitressAccount"][data-to="restaurantRegistration"]'
        )
    ).to_have_count(1)

    # The failed node, and what it blocks (its transitive dependents), are marked in words.
    failed = graph.locator("#graph-node-restaurantRegistration")
    expect(failed).to_have_attribute("data-status", "failed")
    expect(failed).to_contain_text("FAILED")
    label = failed.get_attribute("aria-label") or ""
    assert "status failed" in label and "blocks websiteConfig" in label, label
    blocked = set(dependents_of("restaurantRegistration"))
    for name in names:
        node = graph.locator(f"#graph-node-{name}")
        expect(node).to_have_attribute("data-blocked", "true" if name in blocked else "false")
    expect(graph.locator("#graph-node-optionSets")).to_contain_text("blocked")
    expect(graph.locator(".graph-edge--blocked")).to_have_count(6)
    expect(graph.locator("#graph-node-codeGeneration")).to_have_attribute(
        "data-status", "completed"
    )
    expect(graph.locator("#graph-node-codeGeneration")).to_contain_text("✓ completed")

    # Keyboard: Tab reaches the nodes, arrows move, Enter shows the details.
    failed.focus()
    page.keyboard.press("Tab")
    expect(graph.locator("#graph-node-syncOnboardingUser")).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(failed).to_be_focused()
    page.keyboard.press("Enter")
    details = page.locator("#graph-details")
    expect(details).to_contain_text("restaurantRegistration · Restaurant registration")
    expect(details).to_contain_text("Needed by")
    expect(details).to_contain_text(
        "websiteConfig, servicesConfig, paymentConfig, menuImport, optionSets, itemTags"
    )
    expect(failed).to_be_focused()
    expect(failed).to_have_attribute("aria-pressed", "true")
    expect(graph).to_have_attribute("role", "group")
    page.locator("#graph").screenshot(
        path=output_dir / "job-view-graph.png"
    )  # docs/job-view-graph.png


# ---------------------------------------------------------------------- the actor at sign-in


def test_sign_in_form_takes_an_optional_user_name(page: Page, api: LocalApi, org: str) -> None:
    headers: list[str] = []
    page.on(
        "request",
        lambda request: (
            headers.append(request.headers.get("authorization", ""))
            if "/registration-batches" in request.url
            else None
        ),
    )
    page.goto(api.url + "/")
    page.get_by_label("Organisation id").fill(org)
    page.get_by_label("Your name (optional)").fill("dana")
    page.get_by_label("Your name (optional)").press("Enter")
    expect(page.get_by_role("heading", name="Registration batches", level=1)).to_be_visible()
    expect(page.locator("#session")).to_contain_text("dana")
    assert headers and all(h == f"Bearer local:{org}:dana" for h in headers), headers
