// #/batches/<batchId>: one row per job (six step chips, the Step 6 phase), batch resume.
// View components (data in, DOM out) and one controller, renderBatch, that owns the state.
import { requests } from "../api.js";
import { phaseLabel } from "../catalogue.js";
import { chip, h, messageArea, replaceChildren, timeElement } from "../ui.js";
import { countChips, poller, readForView, refreshBar } from "./common.js";

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

/** The "select all" header box; `onChange(checked)`. */
function selectAllBox(onChange) {
  return h("input", { type: "checkbox", id: "select-all", "aria-label": "Select all jobs", onchange: (e) => onChange(e.target.checked) });
}

function miniSteps(job) {
  return h(
    "ol",
    { class: "mini-steps", "aria-label": `Steps of ${job.name}` },
    job.steps.map((s) => h("li", { title: `Step ${s.step}: ${s.name}` }, h("span", { class: "mini-step-number", "aria-hidden": "true" }, String(s.step)), chip(s.status, { short: true, label: `Step ${s.step} ${s.name}` }))),
  );
}

/** One job's row; `onToggle(jobId, checked)`. */
function jobRow(job, checked, onToggle) {
  const boxId = `select-${job.jobId}`;
  return h(
    "tr",
    { dataset: { jobId: job.jobId }, class: "job-row" },
    h(
      "td",
      { class: "col-select" },
      h("input", { type: "checkbox", id: boxId, checked, dataset: { jobId: job.jobId }, onchange: (e) => onToggle(job.jobId, e.target.checked) }),
      h("label", { for: boxId, class: "visually-hidden" }, `Select ${job.name}`),
    ),
    h("th", { scope: "row", "data-label": "Restaurant" }, h("a", { href: `#/jobs/${encodeURIComponent(job.jobId)}` }, job.name)),
    h("td", { "data-label": "Steps" }, miniSteps(job)),
    h(
      "td",
      { "data-label": "Step 6", class: "step6-cell" },
      chip(job.summary.status, { short: true, label: "Step 6" }),
      " ",
      h("span", { class: "phase-text" }, job.summary.text),
      job.resumable && job.resumeFrom && !job.running ? h("span", { class: "hint block" }, `can resume from ${phaseLabel(job.resumeFrom)}`) : null,
    ),
    h("td", { "data-label": "Job" }, chip(job.status, { label: "Job status" })),
  );
}

/** The jobs table: `selected` is read, never changed; changes go to the callbacks. */
function jobsTable(jobs, selected, { onToggle, onToggleAll }) {
  const columns = ["Restaurant", "Steps 1–6", "Step 6", "Job"].map((title) => h("th", { scope: "col" }, title));
  return h(
    "table",
    { class: "table jobs-table" },
    h("caption", { class: "visually-hidden" }, "Jobs of this batch"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col", class: "col-select" }, selectAllBox(onToggleAll)), columns)),
    h(
      "tbody",
      {},
      jobs.map((job) => jobRow(job, selected.has(job.jobId), onToggle)),
    ),
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

/** The Resume button and the selection text, from the selection and whether a request is out. */
function selectionState(selectedCount, total, requesting) {
  return {
    disabled: requesting || selectedCount === 0,
    label: requesting ? "Resuming…" : selectedCount ? `Resume selected (${selectedCount})` : "Resume selected",
    text: selectedCount ? `${selectedCount} of ${total} selected` : "Select jobs with the checkboxes.",
    all: total > 0 && selectedCount === total,
    some: selectedCount > 0 && selectedCount < total,
  };
}

// ---------------------------------------------------------------- controller

export function renderBatch(main, { id, signal, onCleanup }) {
  document.title = "Batch · Pumpd onboarding";
  // Everything that changes over the view's life, in one place.
  const state = { jobs: [], selected: new Set(), requesting: false, lastSignature: "", firstLoad: true };

  const heading = h("h1", {}, "Batch");
  const meta = h("div", { class: "batch-meta" });
  const bar = refreshBar(() => load(true).catch(() => {}));
  const rows = h("div", { id: "job-rows" }, h("p", { class: "loading" }, "Loading the jobs…"));
  const resumeButton = h("button", { type: "button", id: "resume-selected", class: "button button--primary", onclick: resumeSelected }, "Resume selected");
  const selectionText = h("span", { id: "selection-text", class: "muted", "aria-live": "polite" }, "");
  const message = messageArea("batch-message");
  const results = h("ul", { id: "resume-results", class: "results", "aria-label": "Resume results per job" });

  main.append(
    h("nav", { class: "breadcrumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/batches" }, "All batches"), h("span", { "aria-hidden": "true" }, " / "), "Batch"),
    h("div", { class: "view-head" }, heading, bar.el),
    meta,
    h(
      "section",
      { class: "card", "aria-labelledby": "jobs-heading" },
      h("h2", { id: "jobs-heading" }, "Jobs"),
      h("div", { class: "toolbar" }, resumeButton, selectionText, h("p", { class: "hint" }, "Resume Step 6 for the selected jobs. Each job is accepted or rejected on its own, with its reason.")),
      message.el,
      results,
      rows,
    ),
  );

  const poll = poller(() => load(false));
  onCleanup(() => poll.stop());

  function showSelection() {
    for (const jobId of [...state.selected]) if (!state.jobs.some((j) => j.jobId === jobId)) state.selected.delete(jobId);
    const shown = selectionState(state.selected.size, state.jobs.length, state.requesting);
    resumeButton.disabled = shown.disabled;
    resumeButton.textContent = shown.label;
    selectionText.textContent = shown.text;
    const all = rows.querySelector("#select-all");
    if (all) {
      all.checked = shown.all;
      all.indeterminate = shown.some;
    }
  }

  function toggle(jobId, checked) {
    if (checked) state.selected.add(jobId);
    else state.selected.delete(jobId);
    showSelection();
  }

  function toggleAll(checked) {
    for (const job of state.jobs) toggle(job.jobId, checked);
    for (const box of rows.querySelectorAll("input[data-job-id]")) box.checked = checked;
    showSelection();
  }

  async function load(manual) {
    const batch = await readForView(() => requests.getBatch(id, signal), { title: "Batch", main, bar, state, signal });
    state.firstLoad = false;
    state.jobs = batch.jobs;
    const running = batch.jobs.some((j) => j.running) || batch.status === "in_progress";
    const signature = JSON.stringify(batch);
    const changed = signature !== state.lastSignature;
    state.lastSignature = signature;
    if (changed) show(batch);
    bar.set(new Date(), running);
    if (manual) poll.update({ running, changed: true });
    return { running, changed };
  }

  function show(batch) {
    document.title = `${batch.name} · Pumpd onboarding`;
    heading.textContent = batch.name;
    replaceChildren(meta, batchFacts(batch));
    replaceChildren(rows, batch.jobs.length ? jobsTable(batch.jobs, state.selected, { onToggle: toggle, onToggleAll: toggleAll }) : h("p", { class: "empty" }, "This batch has no jobs."));
    showSelection();
  }

  async function resumeSelected() {
    const ids = state.jobs.map((j) => j.jobId).filter((jobId) => state.selected.has(jobId));
    if (!ids.length) return;
    state.requesting = true;
    showSelection();
    message.show("info", `Asking to resume ${ids.length} job(s)…`);
    message.focus();
    results.replaceChildren();
    try {
      const settled = await requests.resumeBatch(id, { job_ids: ids }, signal);
      const names = new Map(state.jobs.map((j) => [j.jobId, j.name]));
      replaceChildren(results, resumeResults(settled, (jobId) => names.get(jobId) || jobId));
      const { accepted, rejected } = settled;
      message.show(rejected.length && !accepted.length ? "error" : "success", `Resume requested: ${accepted.length} accepted, ${rejected.length} rejected.`);
      for (const a of accepted) state.selected.delete(a.jobId);
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

  load(true).catch(() => {});
}
