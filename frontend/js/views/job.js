// #/jobs/<jobId>: drawn around the failure. First screen: the failure in a sentence with what to
// do, and the actions that apply (Resume, Fix configuration, Re-run…, Skip…, Cancel run). Then
// Step 6 as its dependency graph, the runs as a timeline, Steps 1–6, the sub-step tables (the
// accessible alternative to the graph), the Step 5 form (at the top only while it is to be
// filled in) and the audit trail. View components (data in, DOM out: step5.js, step6.js,
// graph.js, runs.js, actions.js) and one controller, renderJob, that owns the state and polling.
import { requests } from "../api.js";
import { phaseLabel } from "../catalogue.js";
import { announce, chip, formatTime, h, messageArea, replaceChildren, timeElement } from "../ui.js";
import { applicableActions, fixConfigForm, rerunForm, skipForm } from "./actions.js";
import { poller, readForView, refreshBar } from "./common.js";
import { dependencyGraph } from "./graph.js";
import { hasPipeline, pipelineFormKey, pipelineSentence, pipelineSteps, reviewBlock, step2Form, step3Form, stepFailure } from "./pipeline.js";
import { runsTimeline } from "./runs.js";
import { step5Body, step5Mode } from "./step5.js";
import { failureCard, finishedBanner, phaseSection, resumeState, runningBanner } from "./step6.js";

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
    events.map((e) => h("li", {}, timeElement(e.at), " ", h("strong", {}, e.type.replaceAll("_", " ")), " ", h("span", { class: "event-actor" }, `by ${e.actor || "unknown"}`), eventDetail(e.detail))),
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
    panel: "", // the open action form: "", "fix", "rerun" or "skip"
    panelKey: "", // the job state the open form was built for
    advice: null,
    selectedNode: null, // the graph node whose details are shown
    runsSignature: "",
    pipelineForm: "", // the Steps 2/3 form is rebuilt only when this changes (someone may be typing)
    pipelinePlace: "",
    reviewSignature: "",
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
  // The other actions: each opens its form in the panel below the row (one at a time).
  const fixButton = h("button", { type: "button", id: "action-fix", class: "button", "aria-expanded": "false", "aria-controls": "action-panel", onclick: () => togglePanel("fix"), hidden: true }, "Fix configuration");
  const rerunButton = h("button", { type: "button", id: "action-rerun", class: "button", "aria-expanded": "false", "aria-controls": "action-panel", onclick: () => togglePanel("rerun"), hidden: true }, "Re-run…");
  const skipButton = h("button", { type: "button", id: "action-skip", class: "button", "aria-expanded": "false", "aria-controls": "action-panel", onclick: () => togglePanel("skip"), hidden: true }, "Skip…");
  const cancelButton = h("button", { type: "button", id: "action-cancel", class: "button button--danger", onclick: cancelRun, hidden: true }, "Cancel run");
  const cancelMessage = messageArea("cancel-message");
  const configMessage = messageArea("config-message");
  const rerunMessage = messageArea("rerun-message");
  const skipMessage = messageArea("skip-message");
  const actionPanel = h("div", { id: "action-panel", class: "action-panel" });
  const noActions = h("p", { id: "no-actions", class: "hint", hidden: true }, "Nothing to do: Step 6 is not waiting for anyone.");
  const graphBox = h("div", { id: "graph-body" }, h("p", { class: "loading" }, "Loading…"));
  const runsBox = h("div", { id: "runs-body" }, h("p", { class: "loading" }, "Loading the runs…"));
  const phasesBox = h("div", { id: "phases", class: "phases" }, h("p", { class: "loading" }, "Loading the job…"));
  const eventsList = h("div", { id: "events-body" }, h("p", { class: "hint" }, "Open to load the audit trail."));
  const eventsDetails = h("details", { class: "card", id: "events", ontoggle: () => eventsDetails.open && loadEvents() }, h("summary", {}, h("h2", { class: "summary-heading" }, "Audit trail")), eventsList);
  const pipelineStatus = h("p", { id: "pipeline-status", class: "run-status", role: "status", "aria-live": "polite" });
  const pipelineStepsBox = h("div", { id: "pipeline-steps-body" });
  const stepFailureBox = h("div", { id: "step-failure-body" });
  const pipelineMessage = messageArea("pipeline-message");
  const pipelineFormBox = h("div", { id: "pipeline-form-body" });
  const reviewBox = h("div", { id: "review-body" });
  const pipelineSection = h(
    "section",
    { class: "card pipeline-card", id: "pipeline", "aria-labelledby": "pipeline-heading", hidden: true },
    h("h2", { id: "pipeline-heading" }, "Steps 1–4 · from the restaurant's website"),
    pipelineStatus,
    pipelineStepsBox,
    stepFailureBox,
    pipelineMessage.el,
    pipelineFormBox,
    h("details", { class: "review-details", id: "review", open: true }, h("summary", {}, h("h3", { class: "summary-heading" }, "What was extracted, for review")), reviewBox),
  );
  const step5Section = h("section", { class: "card", id: "step5", "aria-labelledby": "step5-heading" }, h("h2", { id: "step5-heading" }, "Step 5 · Yolo Mode configuration"), step5Box);
  const step6Section = h(
    "section",
    { class: "card step6-card", id: "step6", "aria-labelledby": "step6-heading" },
    h("h2", { id: "step6-heading" }, "Step 6 · Pumpd account setup"),
    runStatus,
    failureBox,
    h("div", { class: "resume-row actions-row", id: "actions-row", role: "group", "aria-label": "Actions" }, resumeButton, fixButton, rerunButton, skipButton, cancelButton, noActions),
    resumeHint,
    resumeMessage.el,
    cancelMessage.el,
    actionPanel,
  );
  const stepsSection = h("section", { class: "card job-side", "aria-labelledby": "timeline-heading" }, h("h2", { id: "timeline-heading" }, "Steps"), timeline);
  const tail = h(
    "div",
    { class: "job-rest" },
    h("section", { class: "card", id: "graph", "aria-labelledby": "graph-heading" }, h("h2", { id: "graph-heading" }, "Step 6 as its dependency graph"), graphBox),
    h("section", { class: "card", id: "runs", "aria-labelledby": "runs-heading" }, h("h2", { id: "runs-heading" }, "Runs of Step 6"), runsBox),
    stepsSection,
    h("section", { class: "card", id: "substeps", "aria-labelledby": "substeps-heading" }, h("h2", { id: "substeps-heading" }, "Sub-steps, phase by phase"), phasesBox),
    step5Section,
    eventsDetails,
  );

  main.append(
    h("nav", { class: "breadcrumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/batches" }, "All batches"), h("span", { "aria-hidden": "true" }, " / "), crumbBatch, h("span", { "aria-hidden": "true" }, " / "), "Job"),
    h("div", { class: "view-head" }, heading, bar.el),
    facts,
    h(
      "ul",
      { class: "jump-links", "aria-label": "On this page" },
      h("li", { id: "jump-pipeline", hidden: true }, h("a", { href: "#pipeline", onclick: jump }, "Steps 1–4")),
      h("li", {}, h("a", { href: "#step6", onclick: jump }, "Failure and actions")),
      h("li", {}, h("a", { href: "#graph", onclick: jump }, "Dependency graph")),
      h("li", {}, h("a", { href: "#runs", onclick: jump }, "Runs")),
      h("li", {}, h("a", { href: "#substeps", onclick: jump }, "Sub-step tables")),
      h("li", {}, h("a", { href: "#step5", onclick: jump }, "Step 5 configuration")),
      h("li", {}, h("a", { href: "#events", onclick: jump }, "Audit trail")),
    ),
    pipelineSection,
    step6Section,
    tail,
  );

  const poll = poller(() => load(false));
  onCleanup(() => poll.stop());

  // ---------------------------------------------------------------- loading
  async function load(manual) {
    const job = await readForView(() => requests.getJob(id, signal), { title: "Job", main, bar, state, signal });
    state.firstLoad = false;
    state.job = job;
    const signature = JSON.stringify(job);
    const changed = signature !== state.lastSignature;
    state.lastSignature = signature;
    if (changed) show();
    const running = job.running || job.pipelineRunning;
    bar.set(new Date(), running);
    if (manual) poll.update({ running, changed: true });
    return { running, changed };
  }

  function show() {
    const job = state.job;
    document.title = `${job.name} · Pumpd onboarding`;
    heading.textContent = job.name;
    crumbBatch.href = `#/batches/${encodeURIComponent(job.batchId)}`;
    replaceChildren(facts, jobFacts(job));
    replaceChildren(timeline, timelineItems(job));
    showPipeline();
    showStep5();
    showStep6();
    showGraph();
    loadRuns();
    if (eventsDetails.open) loadEvents();
  }

  /** Steps 1–4: first on the page while the job is at one of them, below once it is past them. */
  function showPipeline() {
    const job = state.job;
    const shown = hasPipeline(job);
    pipelineSection.hidden = !shown;
    document.getElementById("jump-pipeline").hidden = !shown;
    if (!shown) return;
    const place = job.currentStep <= 4 ? "top" : "tail";
    if (place !== state.pipelinePlace) {
      state.pipelinePlace = place;
      if (place === "top") step6Section.before(pipelineSection);
      else tail.insertBefore(pipelineSection, eventsDetails);
    }
    pipelineStatus.textContent = pipelineSentence(job);
    pipelineStatus.className = `run-status${job.pipelineRunning ? " run-status--running" : ""}`;
    replaceChildren(pipelineStepsBox, pipelineSteps(job));
    replaceChildren(stepFailureBox, stepFailure(job, retryStep));
    const form = pipelineFormKey(job);
    if (form.key !== state.pipelineForm) {
      state.pipelineForm = form.key;
      replaceChildren(pipelineFormBox, form.kind === "step2" ? step2Form(job, answerStep2) : form.kind === "step3" ? step3Form(job, answerStep3) : null);
    }
    const review = reviewBlock(job);
    const signature = JSON.stringify([job.restaurant, job.site]);
    if (signature !== state.reviewSignature) {
      state.reviewSignature = signature;
      replaceChildren(reviewBox, review || h("p", { class: "hint" }, "The menu and branding appear here once Step 1 has read the website."));
    }
  }

  function showGraph() {
    replaceChildren(graphBox, dependencyGraph(state.job, { selected: state.selectedNode, onSelect: selectNode }));
  }

  function selectNode(name) {
    state.selectedNode = name;
    showGraph();
    const node = document.getElementById(`graph-node-${name}`);
    if (node) node.focus({ preventScroll: true });
    announce(document.getElementById("graph-details").textContent);
  }

  function showStep5() {
    const mode = step5Mode(state.job);
    if (mode === state.step5Mode) return; // never rebuild a form someone may be typing into
    state.step5Mode = mode;
    replaceChildren(step5Box, step5Body(state.job, mode, submitStep5));
    // While Step 5 is to be filled in it comes first; once completed it goes to the bottom.
    if (mode === "editable") step6Section.after(step5Section);
    else tail.insertBefore(step5Section, eventsDetails);
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
      // A cancel that stopped the run is said so (it may end before the request's answer is read).
      if (state.cancelRequested) cancelMessage.show("success", "Cancel requested: the run has stopped.");
      else cancelMessage.clear();
      state.cancelRequested = false;
      state.resumingFrom = null;
    } else if (!runStatus.textContent) {
      runStatus.className = "run-status";
    }
    state.wasRunning = running;

    // A failure of Steps 1–4 is shown with them, not as Step 6's.
    const card = failureCard(job.lastFailure && job.lastFailure.step ? { ...job, lastFailure: null } : job, running);
    state.advice = card.advice;
    replaceChildren(failureBox, card.el);

    // The Resume button: shown when resumable (and kept, disabled, while a run is active).
    state.resumeShown = job.resumable || (running && state.resumeShown);
    resumeButton.hidden = !state.resumeShown;
    showResumeButton();
    showActions();

    replaceChildren(phasesBox, job.phases.map((ph) => phaseSection(ph, job, running)));
  }

  /** The buttons that apply now; the one the advice names comes first and is primary. */
  function showActions() {
    const job = state.job;
    const can = applicableActions(job);
    fixButton.hidden = !can.fix;
    rerunButton.hidden = !can.rerun;
    skipButton.hidden = !can.skip;
    cancelButton.hidden = !can.cancel;
    noActions.hidden = [state.resumeShown, can.fix, can.rerun, can.skip, can.cancel].some(Boolean);
    const first = state.advice ? { fix: fixButton, resume: resumeButton, skip: skipButton }[state.advice.action] : null;
    for (const button of [resumeButton, fixButton, skipButton]) {
      button.classList.toggle("button--primary", button === (first && !first.hidden ? first : resumeButton));
    }
    if (first && !first.hidden && first !== resumeButton) first.parentElement.prepend(first);
    else resumeButton.parentElement.prepend(resumeButton);
    // An open form stays while the job is unchanged for it; otherwise it closes.
    const key = panelKey(job);
    if (state.panel && (!can[state.panel] || key !== state.panelKey)) closePanel(false);
  }

  function panelKey(job) {
    return JSON.stringify([job.running, job.phases.map((p) => p.subSteps.map((s) => s.status)), job.config]);
  }

  function togglePanel(kind) {
    if (state.panel === kind) {
      closePanel(true);
      return;
    }
    state.panel = kind;
    state.panelKey = panelKey(state.job);
    const job = state.job;
    const onCancel = () => closePanel(true);
    let form;
    if (kind === "fix") {
      configMessage.clear();
      form = fixConfigForm(job, { suggested: state.advice ? state.advice.fields : [], onSubmit: saveConfig, onCancel, message: configMessage });
    } else if (kind === "rerun") {
      rerunMessage.clear();
      form = rerunForm(job, { onSubmit: startRerun, onCancel, message: rerunMessage });
    } else {
      skipMessage.clear();
      form = skipForm(job, { onSubmit: skipSubStep, onCancel, message: skipMessage });
    }
    replaceChildren(actionPanel, form);
    for (const [k, b] of [["fix", fixButton], ["rerun", rerunButton], ["skip", skipButton]]) b.setAttribute("aria-expanded", String(k === kind));
    const firstInput = form.querySelector("input, textarea, select");
    if (firstInput) firstInput.focus();
  }

  function closePanel(returnFocus) {
    const was = { fix: fixButton, rerun: rerunButton, skip: skipButton }[state.panel];
    state.panel = "";
    actionPanel.replaceChildren();
    for (const b of [fixButton, rerunButton, skipButton]) b.setAttribute("aria-expanded", "false");
    if (returnFocus && was && !was.hidden) was.focus();
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

  /** After a Steps 1–4 answer: show the job it answered, then poll while a step runs. */
  function showAnswered(job) {
    state.job = job;
    state.lastSignature = JSON.stringify(job);
    show();
    bar.set(new Date(), job.running || job.pipelineRunning);
    poll.kick();
  }

  /** A form's request: {ok}, {aborted} or {error, fields} (the 422's fields, shown by the form). */
  async function answer(request, done) {
    try {
      const job = await request();
      pipelineMessage.show("success", done);
      showAnswered(job);
      pipelineMessage.focus();
      return { ok: true, text: done };
    } catch (error) {
      if (error.name === "AbortError" || signal.aborted) return { aborted: true };
      if (error.status === 409) reloadAfterAction(); // the job moved on: show where it is
      return { error: error.message, fields: error.fields || [] };
    }
  }

  function answerStep2(body) {
    return answer(() => requests.answerStep2(state.job.jobId, body, signal), `Step 2 completed (${body.email} · ${body.phone}): the company register is being searched for Step 3.`);
  }

  function answerStep3(body) {
    return answer(() => requests.answerStep3(state.job.jobId, body, signal), `Company ${body.company_number} chosen: Step 4 is fetching its details.`);
  }

  async function retryStep(n) {
    pipelineMessage.show("info", `Asking to retry Step ${n}…`);
    try {
      const job = await requests.retryStep(state.job.jobId, n, signal);
      pipelineMessage.show("success", `Step ${n} started again.`);
      showAnswered(job);
    } catch (error) {
      if (error.name === "AbortError" || signal.aborted) return;
      pipelineMessage.show("error", error.code === "already_running" ? "Already running: Steps 1–4 are working on this job. The page refreshes by itself." : error.message);
      await reloadAfterAction();
    }
    pipelineMessage.focus();
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
    await reloadAfterAction();
  }

  /** After an action that changed the job: read it again and keep polling if a run started. */
  async function reloadAfterAction() {
    state.lastSignature = "";
    await load(true).catch(() => {});
    poll.kick();
  }

  /** An action's request; its failure is shown next to the action (written from the error
   * code by api.js). Resolves to `undefined` when it failed or was aborted. */
  async function attempt(request, message) {
    try {
      return { answer: await request() };
    } catch (error) {
      if (error.name === "AbortError" || signal.aborted) return undefined;
      message.show("error", error.message);
      message.focus();
      return undefined;
    }
  }

  async function saveConfig(body) {
    configMessage.show("info", "Saving the configuration…");
    if (!(await attempt(() => requests.amendConfig(state.job.jobId, body, signal), configMessage))) return;
    const changed = Object.entries(body).flatMap(([group, fields]) => Object.keys(fields).map((k) => `${group}.${k}`));
    closePanel(false);
    resumeMessage.show("success", `Configuration saved (${changed.join(", ")}). ${state.job.resumable ? "Resume Step 6 to apply it." : ""}`);
    await reloadAfterAction();
    if (!resumeButton.hidden && !resumeButton.disabled) resumeButton.focus();
    else resumeMessage.focus();
  }

  async function startRerun(names) {
    rerunMessage.show("info", "Asking to re-run…");
    const done = await attempt(() => requests.rerunJob(state.job.jobId, { sub_steps: names }, signal), rerunMessage);
    if (!done) return;
    const started = done.answer;
    closePanel(false);
    state.resumingFrom = null;
    resumeMessage.show("success", `Re-run started from ${phaseLabel(started.resumeFrom) || "the first reset sub-step"}: ${started.reset.join(", ")}.`);
    resumeMessage.focus();
    state.job = { ...state.job, running: true, activeExecution: started.executionArn };
    state.wasRunning = false;
    showStep6();
    await reloadAfterAction();
  }

  async function skipSubStep(name, reason) {
    skipMessage.show("info", `Skipping ${name}…`);
    if (!(await attempt(() => requests.skipSubStep(state.job.jobId, name, { reason }, signal), skipMessage))) return;
    closePanel(false);
    resumeMessage.show("success", `${name} skipped: “${reason}”.`);
    resumeMessage.focus();
    await reloadAfterAction();
  }

  async function cancelRun() {
    cancelButton.disabled = true;
    cancelMessage.show("info", "Asking the run to stop…");
    try {
      await requests.cancelJob(state.job.jobId, signal);
      state.cancelRequested = true;
      cancelMessage.show("success", "Cancel requested: the run stops at its next step; the page shows when it has.");
    } catch (error) {
      if (error.name === "AbortError" || signal.aborted) return;
      cancelMessage.show("error", error.message);
    } finally {
      cancelButton.disabled = false;
    }
    cancelMessage.focus();
    await reloadAfterAction();
  }

  // ---------------------------------------------------------------- runs
  async function loadRuns() {
    try {
      const runs = await requests.getJobRuns(id, signal);
      const signature = JSON.stringify(runs);
      if (signature === state.runsSignature) return;
      state.runsSignature = signature;
      replaceChildren(runsBox, runsTimeline(runs));
    } catch (error) {
      if (error.name !== "AbortError" && !signal.aborted) replaceChildren(runsBox, h("p", { class: "message message--error", role: "alert" }, error.message));
    }
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
