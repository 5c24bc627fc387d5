// #/jobs/<jobId>: the timeline of Steps 1–6, the Step 5 form, Step 6 phases and Resume.
// View components (data in, DOM out; here, in step5.js and in step6.js) and one controller,
// renderJob, that owns the view's state and the polling.
import { requests } from "../api.js";
import { phaseLabel } from "../catalogue.js";
import { announce, chip, formatTime, h, messageArea, replaceChildren, timeElement } from "../ui.js";
import { loadingError, poller, refreshBar } from "./common.js";
import { step5Body, step5Mode } from "./step5.js";
import { failureNotice, finishedBanner, phaseSection, resumeState, runningBanner } from "./step6.js";

// ---------------------------------------------------------------- components

function jobFacts(job) {
  const current = job.steps.find((s) => s.step === job.currentStep);
  return h(
    "dl",
    { class: "facts" },
    h("div", {}, h("dt", {}, "Job status"), h("dd", {}, chip(job.status, { label: "Job status" }))),
    h("div", {}, h("dt", {}, "Current step"), h("dd", {}, `Step ${job.currentStep}: ${current ? current.name : ""}`)),
    h("div", {}, h("dt", {}, "Runs of Step 6"), h("dd", {}, String(job.runNumber))),
    h("div", {}, h("dt", {}, "Updated"), h("dd", {}, timeElement(job.updatedAt))),
  );
}

function timelineItems(job) {
  return job.steps.map((s) => {
    const detail = [];
    if (s.source) detail.push(s.source === "user" ? "by a user" : s.source);
    if (s.completedAt) detail.push(formatTime(s.completedAt));
    if (s.step === 6) detail.unshift(job.summary.text);
    const current = s.step === job.currentStep;
    return h(
      "li",
      { class: `timeline-step timeline-step--${s.status}${current ? " is-current" : ""}`, "aria-current": current ? "step" : false },
      h("span", { class: "timeline-number", "aria-hidden": "true" }, String(s.step)),
      h("div", { class: "timeline-body" }, h("span", { class: "timeline-name" }, h("span", { class: "visually-hidden" }, `Step ${s.step}: `), s.name), " ", chip(s.status), detail.length ? h("span", { class: "hint block" }, detail.join(" · ")) : null),
    );
  });
}

/** An event's detail map, entry by entry ("resume_from Phase 2 · sub_step restaurantRegistration"). */
function eventDetail(entries) {
  const shown = entries
    .filter(([, value]) => value !== null && value !== undefined && value !== "" && typeof value !== "object")
    .map(([key, value]) => `${key.replaceAll("_", " ")} ${phaseLabel(String(value)) || String(value)}`);
  return shown.length ? h("span", { class: "muted" }, ` — ${shown.join(" · ")}`) : null;
}

function eventsBody(events) {
  if (!events.length) return h("p", { class: "hint" }, "No events yet.");
  return h(
    "ol",
    { class: "events" },
    events.map((e) => h("li", {}, timeElement(e.at), " ", h("strong", {}, e.type.replaceAll("_", " ")), eventDetail(e.detail))),
  );
}

// In-page links must not change the hash: the hash is the route.
function jump(event) {
  event.preventDefault();
  const target = document.getElementById(event.currentTarget.getAttribute("href").slice(1));
  if (!target) return;
  target.setAttribute("tabindex", "-1");
  target.scrollIntoView({ block: "start" });
  target.focus({ preventScroll: true });
}

// ---------------------------------------------------------------- controller

export function renderJob(main, { id, signal, onCleanup }) {
  document.title = "Job · Pumpd onboarding";
  // Everything that changes over the view's life, in one place.
  const state = {
    job: null, // the last read (model.js), or the optimistic "running" copy after a Resume click
    lastSignature: "",
    firstLoad: true,
    step5Mode: "", // the Step 5 part is rebuilt only when this changes (someone may be typing)
    resumeRequesting: false,
    resumingFrom: null, // set by our own Resume click, for the "Resuming from Phase N" banner
    wasRunning: false,
    resumeShown: false,
  };

  // ---------------------------------------------------------------- skeleton
  const crumbBatch = h("a", { href: "#/batches" }, "Batch");
  const heading = h("h1", {}, "Job");
  const bar = refreshBar(() => load(true).catch(() => {}));
  const facts = h("div", { class: "job-facts" });
  const timeline = h("ol", { class: "timeline", id: "timeline", "aria-label": "Steps 1 to 6" });
  const step5Box = h("div", { id: "step5-body" });
  const runStatus = h("div", { id: "run-status", class: "run-status", role: "status", "aria-live": "polite" });
  const failureBox = h("div", { id: "last-failure" });
  const resumeHint = h("p", { id: "resume-hint", class: "hint" });
  const resumeButton = h("button", { type: "button", id: "resume-step6", class: "button button--primary", "aria-describedby": "resume-hint", onclick: resume, hidden: true }, "Resume Step 6");
  const resumeMessage = messageArea("resume-message");
  const phasesBox = h("div", { id: "phases", class: "phases" }, h("p", { class: "loading" }, "Loading the job…"));
  const eventsList = h("div", { id: "events-body" }, h("p", { class: "hint" }, "Open to load the audit trail."));
  const eventsDetails = h("details", { class: "card", id: "events", ontoggle: () => eventsDetails.open && loadEvents() }, h("summary", {}, h("h2", { class: "summary-heading" }, "Audit trail")), eventsList);

  main.append(
    h("nav", { class: "breadcrumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/batches" }, "All batches"), h("span", { "aria-hidden": "true" }, " / "), crumbBatch, h("span", { "aria-hidden": "true" }, " / "), "Job"),
    h("div", { class: "view-head" }, heading, bar.el),
    facts,
    h(
      "ul",
      { class: "jump-links", "aria-label": "On this page" },
      h("li", {}, h("a", { href: "#step5", onclick: jump }, "Step 5 configuration")),
      h("li", {}, h("a", { href: "#step6", onclick: jump }, "Step 6 progress and resume")),
      h("li", {}, h("a", { href: "#events", onclick: jump }, "Audit trail")),
    ),
    h(
      "div",
      { class: "job-layout" },
      h("section", { class: "card job-side", "aria-labelledby": "timeline-heading" }, h("h2", { id: "timeline-heading" }, "Steps"), timeline),
      h(
        "div",
        { class: "job-main" },
        h("section", { class: "card", id: "step5", "aria-labelledby": "step5-heading" }, h("h2", { id: "step5-heading" }, "Step 5 · Yolo Mode configuration"), step5Box),
        h(
          "section",
          { class: "card", id: "step6", "aria-labelledby": "step6-heading" },
          h("h2", { id: "step6-heading" }, "Step 6 · Pumpd account setup"),
          runStatus,
          failureBox,
          h("div", { class: "resume-row" }, resumeButton, resumeHint),
          resumeMessage.el,
          phasesBox,
        ),
        eventsDetails,
      ),
    ),
  );

  const poll = poller(() => load(false));
  onCleanup(() => poll.stop());

  // ---------------------------------------------------------------- loading
  async function load(manual) {
    let job;
    try {
      job = await requests.getJob(id, signal);
    } catch (error) {
      if (error.name === "AbortError" || signal.aborted) throw error;
      if (state.firstLoad) loadingError(main, "Job", error, () => location.reload());
      else bar.set(new Date(), true, `could not refresh: ${error.message}`);
      throw error;
    }
    state.firstLoad = false;
    state.job = job;
    const signature = JSON.stringify(job);
    const changed = signature !== state.lastSignature;
    state.lastSignature = signature;
    if (changed) show();
    bar.set(new Date(), job.running);
    if (manual) poll.update({ running: job.running, changed: true });
    return { running: job.running, changed };
  }

  function show() {
    const job = state.job;
    document.title = `${job.name} · Pumpd onboarding`;
    heading.textContent = job.name;
    crumbBatch.href = `#/batches/${encodeURIComponent(job.batchId)}`;
    replaceChildren(facts, jobFacts(job));
    replaceChildren(timeline, timelineItems(job));
    showStep5();
    showStep6();
    if (eventsDetails.open) loadEvents();
  }

  function showStep5() {
    const mode = step5Mode(state.job);
    if (mode === state.step5Mode) return; // never rebuild a form someone may be typing into
    state.step5Mode = mode;
    replaceChildren(step5Box, step5Body(state.job, mode, submitStep5));
  }

  function showStep6() {
    const job = state.job;
    const running = job.running;
    if (running) {
      const banner = runningBanner(job, state.resumingFrom);
      replaceChildren(runStatus, banner.content);
      runStatus.className = banner.className;
    } else if (state.wasRunning) {
      const banner = finishedBanner(job, state.resumingFrom);
      replaceChildren(runStatus, h("strong", {}, banner.text));
      runStatus.className = banner.className;
      announce(banner.text);
      resumeMessage.clear(); // "started"/"accepted" is history now: the banner has the outcome
      state.resumingFrom = null;
    } else if (!runStatus.textContent) {
      runStatus.className = "run-status";
    }
    state.wasRunning = running;

    replaceChildren(failureBox, failureNotice(job, running));

    // The Resume button: shown when resumable (and kept, disabled, while a run is active).
    state.resumeShown = job.resumable || (running && state.resumeShown);
    resumeButton.hidden = !state.resumeShown;
    showResumeButton();

    replaceChildren(phasesBox, job.phases.map((ph) => phaseSection(ph, job, running)));
  }

  function showResumeButton() {
    const shown = resumeState(state.job, { running: state.job.running, shown: state.resumeShown, requesting: state.resumeRequesting });
    resumeButton.disabled = shown.disabled;
    resumeHint.textContent = shown.hint;
  }

  // ---------------------------------------------------------------- actions
  async function submitStep5(config) {
    const job = state.job;
    let settled;
    try {
      settled = await requests.submitStep5(job.batchId, { jobs: [{ job_id: job.jobId, execution_config: config }] }, signal);
    } catch (error) {
      if (error.name === "AbortError" || signal.aborted) return { aborted: true };
      return { error: error.message };
    }
    const rejected = settled.rejected.find((r) => r.jobId === job.jobId);
    if (rejected) return { error: `Step 5 was not accepted: ${rejected.reason}` };
    resumeMessage.show("success", "Step 5 submitted: Step 6 has started.");
    resumeMessage.focus(); // the form is rebuilt read-only: continue where Step 6 is shown
    state.lastSignature = "";
    await load(true).catch(() => {});
    poll.kick();
    return { ok: true };
  }

  async function resume() {
    if (state.resumeRequesting || state.job.running) return;
    state.resumeRequesting = true;
    showResumeButton();
    resumeMessage.show("info", "Asking to resume Step 6…");
    resumeMessage.focus();
    try {
      const started = await requests.resumeJob(state.job.jobId, signal);
      state.resumingFrom = started.resumeFrom;
      resumeMessage.show("success", `Resume accepted: resuming from ${phaseLabel(state.resumingFrom) || "the resume point"}.`);
      // Until the next read shows the run, treat it as active.
      state.job = { ...state.job, running: true, activeExecution: started.executionArn };
      state.wasRunning = false;
      showStep6();
    } catch (error) {
      if (error.name === "AbortError" || signal.aborted) return;
      resumeMessage.show("error", error.message);
    } finally {
      state.resumeRequesting = false;
      showResumeButton();
    }
    state.lastSignature = "";
    await load(true).catch(() => {});
    poll.kick();
  }

  // ---------------------------------------------------------------- audit trail
  async function loadEvents() {
    try {
      replaceChildren(eventsList, eventsBody(await requests.getJobEvents(id, signal)));
    } catch (error) {
      if (error.name !== "AbortError" && !signal.aborted) replaceChildren(eventsList, h("p", { class: "message message--error", role: "alert" }, error.message));
    }
  }

  load(true).catch(() => {});
}
