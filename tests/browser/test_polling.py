"""The page polls only while a run is active, with backoff: checked on a fake clock."""

from __future__ import annotations

import itertools

from playwright.sync_api import Page, expect

from tests.browser.conftest import LocalApi


def test_polling_backs_off_while_unchanged_and_resets_on_change(
    page: Page, api: LocalApi, org: str
) -> None:
    page.clock.install()
    page.goto(f"{api.url}/?org={org}#/batches")
    expect(page.get_by_role("heading", name="Registration batches")).to_be_visible()
    page.evaluate(
        """async () => {
          const { makePoller } = await import("/js/ui.js");
          const calls = (window.__calls = []);
          const poller = makePoller(
            async () => {
              calls.push(Date.now());
              // still running for 8 polls; the 5th sees a change
              return { running: calls.length < 8, changed: calls.length === 5 };
            },
            { initialMs: 1000, factor: 1.5, maxMs: 3000 },
          );
          poller.kick();
        }"""
    )
    page.clock.run_for(60_000)
    calls = page.evaluate("window.__calls")
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert gaps == [1500, 2250, 3000, 3000, 1000, 1500, 2250], gaps


def test_an_idle_job_is_not_polled(page: Page, api: LocalApi, org: str) -> None:
    created = api.create_batch(org, "Idle", ["Cafe Aroha"])
    job_id = created["jobs"][0]["job_id"]
    reads: list[str] = []
    page.on(
        "request",
        lambda request: (
            reads.append(request.url)
            if request.url.endswith(f"/registration-batches/jobs/{job_id}")
            else None
        ),
    )
    page.clock.install()
    page.goto(f"{api.url}/?org={org}#/jobs/{job_id}")
    expect(page.get_by_role("button", name="Submit Step 5 and start Step 6")).to_be_visible()
    page.clock.run_for(120_000)
    expect(page.locator(".refresh-text")).not_to_contain_text("refreshing automatically")
    assert len(reads) == 1, reads
