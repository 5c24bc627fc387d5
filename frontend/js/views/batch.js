// #/batches/<batchId>: a batch of up to thousands of jobs, a page at a time. Server-side filters
// (status, Step 6 status, failed sub-step, cause), a debounced name search, sorting and paging;
// compact rows that name the failed sub-step and the cause; selection by row, by page or "all
// N matching" (one bulk operation over the filter); bulk Step 5; the Failures panel.
// The job list's components are in joblist.js; here, the batch's own and one controller,
// renderBatch, that owns the state.
import { requests } from "../api.js";
import { phaseLabel } from "../catalogue.js";
import { announce, chip, h, messageArea, replaceChildren, timeElement } from "../ui.js";
import { bulkStep5Form } from "./bulkstep5.js";
import { countChips, poller, readForView, refreshBar } from "./common.js";
import { confirmOperation, operationSentence } from "./confirm.js";
import { failuresTable } from "./failures.js";
import { NO_FILTERS, filterBar, jobsTable, pageText, viewAddress, viewFromParams } from "./joblist.js";

// A rejection's `code` (RejectedJob.code) in words; for some the server's reason adds the detail.
const REJECTION_WORDS = {
  already_running: "already running",
  not_resumable: "nothing to resume",
  not_found: "not found in this batch",
  step5_completed: "Step 5 is already completed",
  invalid_config: "invalid configuration",
  conflict: "the job changed meanwhile: try again",
  start_failed: "the run could not be started",
};
const WITH_REASON = new Set(["invalid_config", "start_failed"]);

export function rejectionText(rejection) {
  const words = REJECTION_WORDS[rejection.code];
  if (!words) return rejection.reason || rejection.code || "rejected";
  return WITH_REASON.has(rejection.code) && rejection.reason ? `${words}: ${rejection.reason}` : words;
}

// Above this many explicitly ticked jobs, resuming goes through a bulk operation.
const INTERACTIVE_RESUME_MAX = 100;
const SEARCH_DEBOUNCE_MS = 300;
// "Extract all again": how many Step 1 retries are out at once.
const RETRY_CONCURRENCY = 4;

/** A job whose Step 1 (the website's extraction) failed: "Extract all again" retries it. */
function step1Failed(job) {
  return job.currentStep === 1 && job.steps.some((s) => s.step === 1 && s.status === "failed");
}

/** Run `task(item)` for every item, at most `limit` at a time; resolves when all have settled. */
async function pooled(items, limit, task) {
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const item = items[next];
      next += 1;
      await task(item);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

// ---------------------------------------------------------------- components

function batchFacts(batch) {
  return h(
    "dl",
    { class: "facts" },
    h("div", {}, h("dt", {}, "Status"), h("dd", {}, chip(batch.status, { label: "Batch status" }))),
    h("div", {}, h("dt", {}, "Created"), h("dd", {}, timeElement(batch.createdAt))),
    h("div", {}, h("dt", {}, `Jobs (${batch.jobTotal})`), h("dd", {}, countChips(batch.jobCounts))),
  );
}

/** One line per job of a batch resume answer. */
function resumeResults(settled, nameOf) {
  return [
    settled.accepted.map((a) =>
      h("li", { class: "result result--accepted", dataset: { jobId: a.jobId } }, h("span", { class: "chip-icon", "aria-hidden": "true" }, "✓"), h("strong", {}, nameOf(a.jobId)), `: accepted${a.resumeFrom ? `, resuming from ${phaseLabel(a.resumeFrom)}` : ""}`),
    ),
    settled.rejected.map((r) =>
      h("li", { class: "result result--rejected", dataset: { jobId: r.jobId } }, h("span", { class: "chip-icon", "aria-hidden": "true" }, "✕"), h("strong", {}, nameOf(r.jobId)), `: rejected (${rejectionText(r)})`),
    ),
  ];
}

/** What the selection offers, from how many are selected and whether a request is out. */
export function selectionState({ count, allMatching, total, requesting }) {
  const any = count > 0;
  return {
    resumeDisabled: requesting || !any,
    resumeLabel: requesting ? "Resuming…" : allMatching ? `Resume all ${count} matching…` : any ? `Resume selected (${count})` : "Resume selected",
    step5Label: any ? `Bulk Step 5 (${count})…` : "Bulk Step 5…",
    text: allMatching ? `All ${count} matching jobs are selected.` : any ? `${count} selected.` : "Select jobs with the checkboxes.",
    offerAll: !allMatching && total > 0,
  };
}

// ---------------------------------------------------------------- controller

export function renderBatch(main, { id, params, signal, onCleanup }) {
  document.title = "Batch · Pumpd onboarding";
  // Everything that changes over the view's life, in one place.
  const state = {
    batch: null,
    view: viewFromParams(params),
    cursors: [null], // cursors[i] opens page i of the current filter
    pageIndex: 0,
    page: { jobs: [], nextCursor: null, total: 0 },
    selected: new Map(), // jobId -> name: ticked explicitly, kept across pages
    selectedStep1Failed: new Set(), // of the selected, the jobs whose Step 1 failed (as their row said)
    allMatching: false, // "Select all N matching": the filter is the selection
    failures: [],
    failuresError: "",
    watching: new Set(), // operations started from this view, polled while they are active
    filterKey: "",
    requesting: false,
    extracting: false,
    lastSignature: "",
    firstLoad: true,
  };

  const heading = h("h1", {}, "Batch");
  const meta = h("div", { class: "batch-meta" });
  const bar = refreshBar(() => load(true).catch(() => {}));
  const filters = h("div", { id: "job-filters" });
  const rows = h("div", { id: "job-rows" }, h("p", { class: "loading" }, "Loading the jobs…"));
  const pager = h("nav", { class: "pager", id: "job-pager", "aria-label": "Pages of jobs" });
  const matchText = h("p", { id: "match-count", class: "match-count", "aria-live": "polite" });
  const resumeButton = h("button", { type: "button", id: "resume-selected", class: "button button--primary", onclick: resumeSelected }, "Resume selected");
  const step5Button = h("button", { type: "button", id: "bulk-step5", class: "button", onclick: openBulkStep5 }, "Bulk Step 5…");
  const extractButton = h("button", { type: "button", id: "extract-again", class: "button", onclick: extractAgain, hidden: true }, "Extract all again");
  const allButton = h("button", { type: "button", id: "select-all-matching", class: "button button--quiet", onclick: selectAllMatching }, "Select all matching");
  const clearButton = h("button", { type: "button", id: "clear-selection", class: "button button--quiet", onclick: clearSelection }, "Clear selection");
  const selectionText = h("span", { id: "selection-text", class: "muted", "aria-live": "polite" }, "");
  const message = messageArea("batch-message");
  const results = h("ul", { id: "resume-results", class: "results", "aria-label": "Resume results per job" });
  const bulkPanel = h("div", { id: "bulk-panel", class: "action-panel" });
  const failuresBody = h("div", { id: "failures-body" }, h("p", { class: "loading" }, "Loading the failures…"));
  const failuresMessage = messageArea("failures-message");

  main.append(
    h("nav", { class: "breadcrumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/batches" }, "All batches"), h("span", { "aria-hidden": "true" }, " / "), "Batch"),
    h("div", { class: "view-head" }, heading, bar.el),
    meta,
    h("section", { class: "card", id: "failures-panel", "aria-labelledby": "failures-heading" }, h("h2", { id: "failures-heading" }, "Failures by cause"), failuresMessage.el, failuresBody),
    h(
      "section",
      { class: "card", "aria-labelledby": "jobs-heading" },
      h("h2", { id: "jobs-heading", tabindex: "-1" }, "Jobs"),
      filters,
      matchText,
      h("div", { class: "toolbar" }, resumeButton, step5Button, extractButton, allButton, clearButton, selectionText, h("p", { class: "hint" }, "Resume Step 6 or submit Step 5 for the selected jobs. Each job is accepted or rejected on its own, with its reason.")),
      message.el,
      results,
      bulkPanel,
      rows,
      pager,
    ),
  );

  const poll = poller(() => load(false));
  onCleanup(() => poll.stop());
  let searchTimer = null;
  onCleanup(() => clearTimeout(searchTimer));

  // -------------------------------------------------------------- reading

  function query(extra = {}) {
    const { filters: f, sort, order, limit } = state.view;
    return { ...f, sort, order, limit, cursor: state.cursors[state.pageIndex], ...extra };
  }

  async function load(manual) {
    // The failures are read beside the jobs: if they cannot be read, the panel says so and the
    // job list still works.
    const failuresRead = requests.listFailures(id, signal).then(
      (groups) => ({ groups, error: "" }),
      (error) => ({ groups: state.failures, error: error.name === "AbortError" ? "" : error.message }),
    );
    const [batch, page] = await readForView(() => Promise.all([requests.getBatch(id, signal), requests.listJobs(id, query(), signal)]), { title: "Batch", main, bar, state, signal });
    const { groups: failures, error: failuresError } = await failuresRead;
    state.failuresError = failuresError;
    const operating = await operationsActive();
    state.firstLoad = false;
    state.batch = batch;
    state.page = page;
    state.failures = failures;
    if (page.nextCursor) state.cursors[state.pageIndex + 1] = page.nextCursor;
    const running = operating || state.extracting || page.jobs.some((j) => j.running || j.pipelineRunning) || batch.status === "in_progress" || (batch.jobCounts.in_progress || 0) > 0;
    const signature = JSON.stringify([batch, page, failures, failuresError]);
    const changed = signature !== state.lastSignature;
    state.lastSignature = signature;
    if (changed) show();
    bar.set(new Date(), running);
    if (manual) poll.update({ running, changed: true });
    return { running, changed };
  }

  /** Whether an operation started here is still queued or running (its jobs may not have started yet). */
  async function operationsActive() {
    for (const operationId of [...state.watching]) {
      try {
        const op = await requests.getOperation(operationId, signal);
        if (op.status !== "queued" && op.status !== "running") state.watching.delete(operationId);
      } catch (error) {
        if (error.name === "AbortError" || signal.aborted) throw error;
        // unknown for now: keep watching, the next poll asks again
      }
    }
    return state.watching.size > 0;
  }

  /** A new filter, sort or page size: back to page 1 (the cursors belong to the old query). */
  async function requery() {
    // The address follows the view (without a new history entry), so Back returns to it.
    history.replaceState(null, "", viewAddress(id, state.view));
    state.cursors = [null];
    state.pageIndex = 0;
    state.allMatching = false;
    state.lastSignature = "";
    showSelection();
    await load(true).catch(() => {});
  }

  async function goToPage(index) {
    if (index < 0 || (index > 0 && !state.cursors[index])) return;
    state.pageIndex = index;
    state.lastSignature = "";
    await load(true).catch(() => {});
    document.getElementById("jobs-heading").focus({ preventScroll: false });
  }

  // -------------------------------------------------------------- showing

  function show() {
    const { batch, page } = state;
    document.title = `${batch.name} · Pumpd onboarding`;
    heading.textContent = batch.name;
    replaceChildren(meta, batchFacts(batch));
    // The filter bar is rebuilt only when its own inputs change (not on every poll): typing is never disturbed.
    const filterKey = JSON.stringify([state.view, state.failures.map((g) => g.errorCode)]);
    if (filterKey !== state.filterKey) {
      state.filterKey = filterKey;
      replaceChildren(
      filters,
      filterBar(
        state.view,
        state.failures.map((g) => g.errorCode),
        {
          filter: (name, value) => {
            state.view.filters[name] = value;
            requery();
          },
          search: (text) => {
            state.view.searchText = text;
            clearTimeout(searchTimer);
            searchTimer = setTimeout(() => {
              state.view.filters.q = text.trim();
              requery();
            }, SEARCH_DEBOUNCE_MS);
          },
          sort: sortBy,
          preset: (preset) => {
            state.view.filters = { ...NO_FILTERS, ...preset, q: state.view.filters.q };
            requery().then(() => announce(`${state.page.total} matching job${state.page.total === 1 ? "" : "s"}.`));
          },
          limit: (n) => {
            state.view.limit = n;
            requery();
          },
          clear: () => {
            state.view.filters = { ...NO_FILTERS };
            state.view.searchText = "";
            requery();
          },
        },
      ),
    );
    }
    matchText.textContent = `${page.total} matching job${page.total === 1 ? "" : "s"}`;
    matchText.dataset.total = String(page.total);
    replaceChildren(
      rows,
      page.jobs.length
        ? jobsTable(page.jobs, (jobId) => state.selected.has(jobId), state.allMatching, { onToggle: toggle, onTogglePage: togglePage, view: state.view, onSort: sortBy })
        : h("p", { class: "empty" }, batch.jobTotal ? "No job matches these filters." : "This batch has no jobs."),
    );
    replaceChildren(
      pager,
      h("button", { type: "button", id: "page-previous", class: "button button--quiet", disabled: state.pageIndex === 0, onclick: () => goToPage(state.pageIndex - 1) }, "Previous"),
      h("span", { id: "page-text", class: "muted" }, pageText(state.pageIndex, state.view.limit, page.jobs.length, page.total)),
      h("button", { type: "button", id: "page-next", class: "button button--quiet", disabled: !page.nextCursor, onclick: () => goToPage(state.pageIndex + 1) }, "Next"),
    );
    replaceChildren(
      failuresBody,
      state.failuresError ? h("p", { class: "message message--error", role: "alert" }, `Could not read the failures: ${state.failuresError}`) : null,
      failuresTable(state.failures, { onShow: showGroup, onResume: resumeGroup, busy: state.requesting }),
    );
    showSelection();
  }

  function selectedCount() {
    return state.allMatching ? state.page.total : state.selected.size;
  }

  function showSelection() {
    const shown = selectionState({ count: selectedCount(), allMatching: state.allMatching, total: state.page.total, requesting: state.requesting });
    resumeButton.disabled = shown.resumeDisabled;
    resumeButton.textContent = shown.resumeLabel;
    step5Button.disabled = shown.resumeDisabled;
    step5Button.textContent = shown.step5Label;
    selectionText.textContent = shown.text;
    allButton.hidden = !shown.offerAll;
    allButton.textContent = `Select all ${state.page.total} matching`;
    clearButton.hidden = !selectedCount();
    // "Extract all again": the selected jobs whose Step 1 failed (all matching: those of the filter).
    const extractable = state.allMatching ? null : state.selectedStep1Failed.size;
    extractButton.hidden = !state.extracting && (state.allMatching ? !state.page.jobs.some(step1Failed) : !extractable);
    extractButton.disabled = state.requesting || Boolean(state.extracting);
    extractButton.textContent = state.extracting ? "Extracting again…" : extractable === null ? "Extract all again (failed at Step 1)…" : `Extract all again (${extractable})`;
    const box = rows.querySelector("#select-all");
    if (box) {
      const onPage = state.page.jobs.filter((j) => state.selected.has(j.jobId)).length;
      box.checked = state.allMatching || (onPage > 0 && onPage === state.page.jobs.length);
      box.indeterminate = !state.allMatching && onPage > 0 && onPage < state.page.jobs.length;
    }
  }

  function sortBy(sort, order) {
    Object.assign(state.view, { sort, order });
    requery();
  }

  // -------------------------------------------------------------- selecting

  function toggle(job, checked) {
    if (checked) state.selected.set(job.jobId, job.name);
    else state.selected.delete(job.jobId);
    if (checked && step1Failed(job)) state.selectedStep1Failed.add(job.jobId);
    else state.selectedStep1Failed.delete(job.jobId);
    showSelection();
  }

  function togglePage(checked) {
    for (const job of state.page.jobs) toggle(job, checked);
    for (const box of rows.querySelectorAll("input[data-job-id]")) box.checked = checked;
    showSelection();
  }

  function selectAllMatching() {
    state.allMatching = true;
    state.selected.clear();
    state.selectedStep1Failed.clear();
    show();
    announce(`All ${state.page.total} matching jobs are selected.`);
  }

  function clearSelection() {
    state.allMatching = false;
    state.selected.clear();
    state.selectedStep1Failed.clear();
    replaceChildren(bulkPanel);
    show();
  }

  // -------------------------------------------------------------- acting

  /** The operation's selector for the current selection (a search has no selector field: its ids go instead). */
  async function selectorOfSelection(extra = {}) {
    if (!state.allMatching) return { batch_id: id, job_ids: [...state.selected.keys()] };
    const f = state.view.filters;
    // The operations' selector has no search nor step filter: the matching ids go instead.
    if (f.q || f.current_step) return { batch_id: id, job_ids: await matchingIds(extra) };
    const selector = { batch_id: id, ...extra };
    for (const key of ["status", "step6_status", "failed_sub_step", "error_code"]) if (f[key]) selector[key] = f[key];
    return selector;
  }

  async function matchingIds(extra) {
    const ids = [];
    let cursor = null;
    do {
      const page = await requests.listJobs(id, { ...state.view.filters, ...extra, sort: "created", order: "asc", limit: 200, cursor }, signal);
      ids.push(...page.jobs.map((j) => j.jobId));
      cursor = page.nextCursor;
    } while (cursor);
    return ids;
  }

  async function startOperation(body, described) {
    const op = await requests.startOperation({ ...body, client_token: crypto.randomUUID() }, signal);
    state.watching.add(op.operationId);
    const link = h("a", { href: `#/operations/${encodeURIComponent(op.operationId)}`, id: "operation-link" }, "Follow it in Operations");
    return { op, text: `Operation started: ${described}. `, more: [link] };
  }

  async function resumeSelected() {
    if (state.allMatching) return resumeAllMatching();
    const ids = [...state.selected.keys()];
    if (!ids.length) return;
    if (ids.length > INTERACTIVE_RESUME_MAX) return resumeAsOperation(ids);
    const names = new Map(state.selected);
    for (const j of state.page.jobs) names.set(j.jobId, j.name);
    state.requesting = true;
    showSelection();
    message.show("info", `Asking to resume ${ids.length} job(s)…`);
    message.focus();
    results.replaceChildren();
    try {
      const settled = await requests.resumeBatch(id, { job_ids: ids }, signal);
      replaceChildren(results, resumeResults(settled, (jobId) => names.get(jobId) || jobId));
      const { accepted, rejected } = settled;
      message.show(rejected.length && !accepted.length ? "error" : "success", `Resume requested: ${accepted.length} accepted, ${rejected.length} rejected.`);
      // Every answered job leaves the selection: the rejected ones are listed above with why,
      // and ticking them again would only be rejected again.
      state.selected.clear();
    } catch (error) {
      if (error.name === "AbortError" || signal.aborted) return;
      message.show("error", error.message);
    } finally {
      state.requesting = false;
      showSelection();
    }
    state.lastSignature = "";
    await load(true).catch(() => {});
    poll.kick();
  }

  async function resumeAsOperation(ids) {
    const answer = await confirmOperation({ title: "Resume the selected jobs", verb: "Resume Step 6", count: ids.length, detail: "Jobs with nothing to resume are rejected, each with its reason." });
    if (!answer) return;
    await run(() => startOperation({ action: "resume_step6", selector: { batch_id: id, job_ids: ids }, max_concurrency: answer.maxConcurrency }, operationSentence("Resume Step 6", ids.length, answer.maxConcurrency)));
  }

  async function resumeAllMatching() {
    // Only the resumable ones are sent: the count in the question is the count that will run.
    let count;
    try {
      count = (await requests.listJobs(id, { ...query({ cursor: null, limit: 1 }), resumable: "true" }, signal)).total;
    } catch (error) {
      if (error.name !== "AbortError" && !signal.aborted) message.show("error", error.message);
      return;
    }
    if (!count) {
      message.show("error", `None of the ${state.page.total} matching jobs can resume: nothing to do.`);
      return;
    }
    const skipped = state.page.total - count;
    const answer = await confirmOperation({
      title: "Resume all matching jobs",
      verb: "Resume Step 6",
      count,
      detail: skipped > 0 ? `${skipped} of the ${state.page.total} matching jobs have nothing to resume and are left out.` : "",
    });
    if (!answer) return;
    await run(async () => {
      const selector = await selectorOfSelection({ resumable: true });
      return startOperation({ action: "resume_step6", selector, max_concurrency: answer.maxConcurrency }, operationSentence("Resume Step 6", count, answer.maxConcurrency));
    });
  }

  /** Send one bulk request; the selection is cleared once it is accepted. */
  async function run(send) {
    state.requesting = true;
    showSelection();
    message.show("info", "Starting the operation…");
    message.focus();
    try {
      const started = await send();
      message.show("success", started.text, ...started.more);
      state.selected.clear();
      state.allMatching = false;
      return started;
    } catch (error) {
      if (error.name === "AbortError" || signal.aborted) return null;
      message.show("error", error.message);
      return null;
    } finally {
      state.requesting = false;
      state.lastSignature = "";
      await load(true).catch(() => {});
      poll.kick();
    }
  }

  // -------------------------------------------------------------- Extract all again (Step 1)

  /** The jobs to extract again: the selected ones whose Step 1 failed, or those of the filter. */
  async function extractTargets() {
    if (!state.allMatching) return [...state.selectedStep1Failed].map((jobId) => ({ jobId, name: state.selected.get(jobId) || jobId }));
    const found = [];
    let cursor = null;
    do {
      const page = await requests.listJobs(id, { ...state.view.filters, current_step: "1", status: "failed", sort: "created", order: "asc", limit: 200, cursor }, signal);
      found.push(...page.jobs.filter(step1Failed).map((j) => ({ jobId: j.jobId, name: j.name })));
      cursor = page.nextCursor;
    } while (cursor && found.length < 1000);
    return found;
  }

  /** Retry Step 1 of each target, a few at a time; each is accepted or rejected with its reason. */
  async function extractAgain() {
    if (state.extracting) return;
    state.extracting = true;
    showSelection();
    message.show("info", "Finding the jobs whose Step 1 failed…");
    message.focus();
    results.replaceChildren();
    let targets;
    try {
      targets = await extractTargets();
    } catch (error) {
      state.extracting = false;
      showSelection();
      if (error.name !== "AbortError" && !signal.aborted) message.show("error", error.message);
      return;
    }
    const accepted = [];
    const rejected = [];
    let done = 0;
    message.show("info", `Extracting ${targets.length} job(s) again…`);
    await pooled(targets, RETRY_CONCURRENCY, async (target) => {
      if (signal.aborted) return;
      try {
        await requests.retryStep(target.jobId, 1, signal);
        accepted.push(target);
      } catch (error) {
        if (error.name === "AbortError" || signal.aborted) return;
        rejected.push({ ...target, reason: error.code === "step_not_failed" ? "Step 1 has not failed (any more)" : error.code === "already_running" ? "already running" : error.message });
      }
      done += 1;
      if (done % 10 === 0) message.show("info", `Extracting again: ${done} of ${targets.length} asked…`);
    });
    if (signal.aborted) return;
    state.extracting = false;
    replaceChildren(results, [
      accepted.map((a) => h("li", { class: "result result--accepted", dataset: { jobId: a.jobId } }, h("span", { class: "chip-icon", "aria-hidden": "true" }, "✓"), h("strong", {}, a.name), ": accepted, Step 1 runs again")),
      rejected.map((r) => h("li", { class: "result result--rejected", dataset: { jobId: r.jobId } }, h("span", { class: "chip-icon", "aria-hidden": "true" }, "✕"), h("strong", {}, r.name), `: rejected (${r.reason})`)),
    ]);
    message.show(rejected.length && !accepted.length ? "error" : "success", targets.length ? `Extract again: ${accepted.length} accepted, ${rejected.length} rejected.` : "No selected job failed at Step 1: nothing to extract again.");
    for (const a of accepted) {
      state.selected.delete(a.jobId);
      state.selectedStep1Failed.delete(a.jobId);
    }
    state.lastSignature = "";
    await load(true).catch(() => {});
    poll.kick();
  }

  // -------------------------------------------------------------- the failures panel

  function showGroup(group) {
    if (group.step) {
      state.view.filters = { ...NO_FILTERS, current_step: String(group.step), status: "failed", error_code: group.errorCode || "" };
      state.view.searchText = "";
      requery().then(() => {
        document.getElementById("jobs-heading").focus({ preventScroll: false });
        announce(`Showing the ${state.page.total} jobs that failed at Step ${group.step}.`);
      });
      return;
    }
    state.view.filters = { ...NO_FILTERS, failed_sub_step: group.subStep || "", error_code: group.errorCode || "" };
    state.view.searchText = "";
    requery().then(() => {
      document.getElementById("jobs-heading").focus({ preventScroll: false });
      announce(`Showing the ${state.page.total} jobs that failed at ${group.subStep}.`);
    });
  }

  async function resumeGroup(group) {
    const answer = await confirmOperation({
      title: "Resume these failures",
      verb: "Resume Step 6",
      count: group.resumableCount,
      detail: `Every job of this batch that failed at ${group.subStep || phaseLabel(group.phase)} with ${group.errorCode || "this cause"} and can resume.`,
    });
    if (!answer) return;
    const selector = { batch_id: id, resumable: true };
    if (group.subStep) selector.failed_sub_step = group.subStep;
    else if (group.phase) selector.failed_phase = group.phase;
    if (group.errorCode) selector.error_code = group.errorCode;
    state.requesting = true;
    failuresMessage.show("info", "Starting the operation…");
    try {
      const started = await startOperation({ action: "resume_step6", selector, max_concurrency: answer.maxConcurrency }, operationSentence("Resume Step 6", group.resumableCount, answer.maxConcurrency));
      failuresMessage.show("success", started.text, ...started.more);
    } catch (error) {
      if (error.name !== "AbortError" && !signal.aborted) failuresMessage.show("error", error.message);
    } finally {
      state.requesting = false;
      state.lastSignature = "";
      await load(true).catch(() => {});
      poll.kick();
    }
  }

  // -------------------------------------------------------------- bulk Step 5

  function openBulkStep5() {
    const count = selectedCount();
    if (!count) return;
    const allMatching = state.allMatching;
    const explicit = [...state.selected.entries()].map(([jobId, name]) => ({ jobId, name }));
    const filterNow = { ...state.view.filters };
    const form = bulkStep5Form({
      count,
      describe: allMatching ? `all ${count} matching jobs` : `the ${count} selected job${count === 1 ? "" : "s"}`,
      pageOfJobs: async (cursor) => {
        if (!allMatching) {
          const start = Number(cursor || 0);
          const next = start + 50 < explicit.length ? String(start + 50) : null;
          return { jobs: explicit.slice(start, start + 50), nextCursor: next };
        }
        const page = await requests.listJobs(id, { ...filterNow, sort: "name", order: "asc", limit: 50, cursor }, signal);
        return { jobs: page.jobs.map((j) => ({ jobId: j.jobId, name: j.name })), nextCursor: page.nextCursor };
      },
      emailOf: async (jobId) => (await requests.getJob(jobId, signal)).defaults.email,
      onSubmit: async (body) => {
        try {
          const selector = allMatching ? await selectorOfSelection() : { batch_id: id, job_ids: explicit.map((j) => j.jobId) };
          const started = await startOperation({ action: "submit_step5", selector, ...body }, operationSentence("Submit Step 5", count, body.max_concurrency));
          state.selected.clear();
          state.allMatching = false;
          state.lastSignature = "";
          load(true).catch(() => {});
          poll.kick();
          return { ok: true, text: started.text, more: started.more };
        } catch (error) {
          if (error.name === "AbortError" || signal.aborted) return { aborted: true };
          return { error: error.message };
        }
      },
      onClose: () => {
        replaceChildren(bulkPanel);
        step5Button.focus();
      },
    });
    replaceChildren(bulkPanel, form);
    form.querySelector("h3").setAttribute("tabindex", "-1");
    form.querySelector("h3").focus();
  }

  load(true).catch(() => {});
}
