// #/batches/<batchId>: one row per job (six step chips, the Step 6 phase), batch resume.
import { api, endpoints, meansAlreadyRunning } from "../api.js";
import { phaseLabel } from "../catalogue.js";
import { batchJobs, isRunning, jobCounts, phaseSummary, restaurantName, steps } from "../model.js";
import { chip, h, messageArea, replaceChildren, timeElement } from "../ui.js";
import { countChips, loadingError, poller, refreshBar, totalJobs } from "./common.js";

const REJECTION_WORDS = {
  already_running: "already running",
  not_resumable: "nothing to resume",
  not_found: "not found in this batch",
  step5_completed: "Step 5 is already completed",
  invalid_config: "invalid configuration",
  start_failed: "the run could not be started",
};

export function rejectionText(rejection) {
  const words = REJECTION_WORDS[rejection.code] || "";
  // The job is already named in the row: drop "job <id>" from the server's sentence.
  const reason = (rejection.reason || rejection.message || "").replace(/\bjob [0-9a-f-]{8,}:?\s*/i, "").trim();
  if (words && (!reason || reason.toLowerCase().includes(words.toLowerCase()))) return words;
  if (words) return `${words}: ${reason}`;
  if (meansAlreadyRunning("", reason)) return `already running: ${reason}`;
  return reason || "rejected";
}

export function renderBatch(main, { id, signal, onCleanup }) {
  document.title = "Batch · Pumpd onboarding";
  const selected = new Set();
  let jobs = [];
  let lastSignature = "";
  let requesting = false;
  let firstLoad = true;

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
      h(
        "div",
        { class: "toolbar" },
        resumeButton,
        selectionText,
        h("p", { class: "hint" }, "Resume Step 6 for the selected jobs. Each job is accepted or rejected on its own, with its reason."),
      ),
      message.el,
      results,
      rows,
    ),
  );

  const poll = poller(() => load(false));
  onCleanup(() => poll.stop());

  function updateSelection() {
    for (const jobId of [...selected]) if (!jobs.some((j) => j.job_id === jobId)) selected.delete(jobId);
    resumeButton.disabled = requesting || selected.size === 0;
    resumeButton.textContent = requesting ? "Resuming…" : selected.size ? `Resume selected (${selected.size})` : "Resume selected";
    selectionText.textContent = selected.size ? `${selected.size} of ${jobs.length} selected` : "Select jobs with the checkboxes.";
    const all = document.getElementById("select-all");
    if (all) {
      all.checked = jobs.length > 0 && selected.size === jobs.length;
      all.indeterminate = selected.size > 0 && selected.size < jobs.length;
    }
  }

  async function load(manual) {
    let batch;
    try {
      batch = await api("GET", endpoints.batch(id), undefined, { signal });
    } catch (error) {
      if (error.name === "AbortError" || signal.aborted) throw error;
      if (firstLoad) loadingError(main, "Batch", error, () => location.reload());
      else bar.set(new Date(), true, `could not refresh: ${error.message}`);
      throw error;
    }
    firstLoad = false;
    jobs = batchJobs(batch);
    const running = jobs.some(isRunning) || batch.status === "in_progress";
    const signature = JSON.stringify(batch);
    const changed = signature !== lastSignature;
    lastSignature = signature;
    if (changed) render(batch);
    bar.set(new Date(), running);
    if (manual) poll.update({ running, changed: true });
    return { running, changed };
  }

  function render(batch) {
    document.title = `${batch.name || "Batch"} · Pumpd onboarding`;
    heading.textContent = batch.name || "Batch";
    const counts = jobCounts(batch);
    replaceChildren(
      meta,
      h(
        "dl",
        { class: "facts" },
        h("div", {}, h("dt", {}, "Status"), h("dd", {}, chip(batch.status || "pending", { label: "Batch status" }))),
        h("div", {}, h("dt", {}, "Created"), h("dd", {}, timeElement(batch.created_at))),
        h("div", {}, h("dt", {}, `Jobs (${totalJobs(counts)})`), h("dd", {}, countChips(counts))),
      ),
    );
    replaceChildren(rows, jobs.length ? table() : h("p", { class: "empty" }, "This batch has no jobs."));
    updateSelection();
  }

  function table() {
    return h(
      "table",
      { class: "table jobs-table" },
      h("caption", { class: "visually-hidden" }, "Jobs of this batch"),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h(
            "th",
            { scope: "col", class: "col-select" },
            h("input", {
              type: "checkbox",
              id: "select-all",
              "aria-label": "Select all jobs",
              onchange: (e) => {
                for (const j of jobs) e.target.checked ? selected.add(j.job_id) : selected.delete(j.job_id);
                for (const box of rows.querySelectorAll("input[data-job-id]")) box.checked = e.target.checked;
                updateSelection();
              },
            }),
          ),
          h("th", { scope: "col" }, "Restaurant"),
          h("th", { scope: "col" }, "Steps 1–6"),
          h("th", { scope: "col" }, "Step 6"),
          h("th", { scope: "col" }, "Job"),
        ),
      ),
      h("tbody", {}, jobs.map(row)),
    );
  }

  function row(job) {
    const name = restaurantName(job);
    const summary = phaseSummary(job);
    const boxId = `select-${job.job_id}`;
    return h(
      "tr",
      { dataset: { jobId: job.job_id }, class: "job-row" },
      h(
        "td",
        { class: "col-select" },
        h("input", {
          type: "checkbox",
          id: boxId,
          checked: selected.has(job.job_id),
          dataset: { jobId: job.job_id },
          onchange: (e) => {
            e.target.checked ? selected.add(job.job_id) : selected.delete(job.job_id);
            updateSelection();
          },
        }),
        h("label", { for: boxId, class: "visually-hidden" }, `Select ${name}`),
      ),
      h("th", { scope: "row", "data-label": "Restaurant" }, h("a", { href: `#/jobs/${encodeURIComponent(job.job_id)}` }, name)),
      h(
        "td",
        { "data-label": "Steps" },
        h(
          "ol",
          { class: "mini-steps", "aria-label": `Steps of ${name}` },
          steps(job).map((s) =>
            h("li", { title: `Step ${s.step}: ${s.name}` }, h("span", { class: "mini-step-number", "aria-hidden": "true" }, String(s.step)), chip(s.status, { short: true, label: `Step ${s.step} ${s.name}` })),
          ),
        ),
      ),
      h(
        "td",
        { "data-label": "Step 6", class: "step6-cell" },
        chip(summary.status, { short: true, label: "Step 6" }),
        " ",
        h("span", { class: "phase-text" }, summary.text),
        job.resumable && job.resume_from && !isRunning(job) ? h("span", { class: "hint block" }, `can resume from ${phaseLabel(job.resume_from)}`) : null,
      ),
      h("td", { "data-label": "Job" }, chip(job.status || "pending", { label: "Job status" })),
    );
  }

  async function resumeSelected() {
    const ids = jobs.map((j) => j.job_id).filter((jobId) => selected.has(jobId));
    if (!ids.length) return;
    requesting = true;
    updateSelection();
    message.show("info", `Asking to resume ${ids.length} job(s)…`);
    message.focus();
    results.replaceChildren();
    try {
      const answer = await api("POST", endpoints.resumeBatch(id), { job_ids: ids }, { signal });
      const accepted = answer.accepted || [];
      const rejected = answer.rejected || [];
      const nameOf = (jobId) => restaurantName(jobs.find((j) => j.job_id === jobId) || { job_id: jobId });
      replaceChildren(
        results,
        accepted.map((a) =>
          h("li", { class: "result result--accepted", dataset: { jobId: a.job_id } }, h("span", { class: "chip-icon", "aria-hidden": "true" }, "✓"), h("strong", {}, nameOf(a.job_id)), `: accepted${a.resume_from ? `, resuming from ${phaseLabel(a.resume_from)}` : ""}`),
        ),
        rejected.map((r) =>
          h("li", { class: "result result--rejected", dataset: { jobId: r.job_id } }, h("span", { class: "chip-icon", "aria-hidden": "true" }, "✕"), h("strong", {}, nameOf(r.job_id)), `: rejected (${rejectionText(r)})`),
        ),
      );
      const summary = `${accepted.length} accepted, ${rejected.length} rejected.`;
      message.show(rejected.length && !accepted.length ? "error" : "success", `Resume requested: ${summary}`);
      for (const a of accepted) selected.delete(a.job_id);
    } catch (error) {
      if (error.name === "AbortError" || signal.aborted) return;
      message.show("error", error.message);
    } finally {
      requesting = false;
      updateSelection();
    }
    lastSignature = "";
    await load(true).catch(() => {});
    poll.kick();
  }

  load(true).catch(() => {});
}
