// #/jobs/<jobId>: the timeline of Steps 1–6, the Step 5 form, Step 6 phases and Resume.
import { api, endpoints } from "../api.js";
import { PHASES, PHASE_TITLES, SUB_STEPS, SUB_STEP_BY_NAME, phaseLabel, phaseNumber, subStepsOf } from "../catalogue.js";
import { currentPhase, isRunning, lastFailure, phaseSummary, phases, restaurantName, step, step6Status, steps } from "../model.js";
import { announce, chip, durationOf, formatDuration, formatTime, h, messageArea, replaceChildren, statusText, timeElement } from "../ui.js";
import { loadingError, poller, refreshBar } from "./common.js";

const SKIP_WORDS = {
  disabled: "Disabled: switched off in the Step 5 configuration.",
  dependency_not_met: "Dependency not met: a sub-step it needs did not succeed. Planned again on resume.",
};

const PASSWORD_HINT = "At least 12 characters (at most 128), with a letter and a digit, no leading or trailing spaces.";

export function renderJob(main, { id, signal, onCleanup }) {
  document.title = "Job · Pumpd onboarding";
  let job = null;
  let lastSignature = "";
  let firstLoad = true;
  let step5Mode = "";
  let resumeRequesting = false;
  let resumingFrom = null; // set by our own Resume click, for the "Resuming from Phase N" banner
  let wasRunning = false;
  let resumeShown = false;

  // ---------------------------------------------------------------- skeleton
  const crumbBatch = h("a", { href: "#/batches" }, "Batch");
  const heading = h("h1", {}, "Job");
  const bar = refreshBar(() => load(true).catch(() => {}));
  const facts = h("div", { class: "job-facts" });
  const timeline = h("ol", { class: "timeline", id: "timeline", "aria-label": "Steps 1 to 6" });
  const step5Body = h("div", { id: "step5-body" });
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
        h("section", { class: "card", id: "step5", "aria-labelledby": "step5-heading" }, h("h2", { id: "step5-heading" }, "Step 5 · Yolo Mode configuration"), step5Body),
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

  // In-page links must not change the hash: the hash is the route.
  function jump(event) {
    event.preventDefault();
    const target = document.getElementById(event.currentTarget.getAttribute("href").slice(1));
    if (!target) return;
    target.setAttribute("tabindex", "-1");
    target.scrollIntoView({ block: "start" });
    target.focus({ preventScroll: true });
  }

  // ---------------------------------------------------------------- loading
  async function load(manual) {
    let data;
    try {
      data = await api("GET", endpoints.job(id), undefined, { signal });
    } catch (error) {
      if (error.name === "AbortError" || signal.aborted) throw error;
      if (firstLoad) loadingError(main, "Job", error, () => location.reload());
      else bar.set(new Date(), true, `could not refresh: ${error.message}`);
      throw error;
    }
    firstLoad = false;
    job = data;
    const running = isRunning(job);
    const signature = JSON.stringify(job);
    const changed = signature !== lastSignature;
    lastSignature = signature;
    if (changed) render();
    bar.set(new Date(), running);
    if (manual) poll.update({ running, changed: true });
    return { running, changed };
  }

  function render() {
    const name = restaurantName(job);
    document.title = `${name} · Pumpd onboarding`;
    heading.textContent = name;
    crumbBatch.href = `#/batches/${encodeURIComponent(job.batch_id)}`;
    crumbBatch.textContent = "Batch";
    renderFacts();
    renderTimeline();
    renderStep5();
    renderStep6();
    if (eventsDetails.open) loadEvents();
  }

  function renderFacts() {
    replaceChildren(
      facts,
      h(
        "dl",
        { class: "facts" },
        h("div", {}, h("dt", {}, "Job status"), h("dd", {}, chip(job.status, { label: "Job status" }))),
        h("div", {}, h("dt", {}, "Current step"), h("dd", {}, `Step ${job.current_step}: ${step(job, job.current_step || 1).name}`)),
        h("div", {}, h("dt", {}, "Runs of Step 6"), h("dd", {}, String(job.run_number ?? 0))),
        h("div", {}, h("dt", {}, "Updated"), h("dd", {}, timeElement(job.updated_at))),
      ),
    );
  }

  function renderTimeline() {
    replaceChildren(
      timeline,
      steps(job).map((s) => {
        const detail = [];
        if (s.source) detail.push(s.source === "user" ? "by a user" : s.source);
        if (s.completed_at) detail.push(formatTime(s.completed_at));
        if (s.step === 6) detail.unshift(phaseSummary(job).text);
        return h(
          "li",
          { class: `timeline-step timeline-step--${s.status}${s.step === job.current_step ? " is-current" : ""}`, "aria-current": s.step === job.current_step ? "step" : false },
          h("span", { class: "timeline-number", "aria-hidden": "true" }, String(s.step)),
          h("div", { class: "timeline-body" }, h("span", { class: "timeline-name" }, h("span", { class: "visually-hidden" }, `Step ${s.step}: `), s.name), " ", chip(s.status), detail.length ? h("span", { class: "hint block" }, detail.join(" · ")) : null),
        );
      }),
    );
  }

  // ---------------------------------------------------------------- Step 5
  function step5State() {
    const s5 = step(job, 5).status;
    if (s5 === "completed") return "locked";
    if (s5 === "action_required" || s5 === "failed") return "editable";
    return "waiting";
  }

  function renderStep5() {
    const mode = step5State();
    if (mode === step5Mode) return; // never rebuild a form someone may be typing into
    step5Mode = mode;
    if (mode === "waiting") {
      replaceChildren(step5Body, h("p", { class: "note" }, `Step 5 opens when Steps 1–4 are completed (it is ${statusText(step(job, 5).status)}).`));
      return;
    }
    replaceChildren(step5Body, step5Form(mode === "locked"));
  }

  function step5Form(locked) {
    const config = job.execution_config || {};
    const account = config.account || {};
    const menu = config.menu || {};
    const onboarding = config.onboarding || {};
    const enabled = config.steps_enabled || {};
    const restaurant = job.restaurant || {};
    const value = (lockedValue, fresh) => (locked ? lockedValue : fresh);
    const check = (idName, label, checked, hint = "") =>
      h(
        "div",
        { class: "check" },
        h("input", { type: "checkbox", id: `s5-${idName}`, name: idName, checked: Boolean(checked) }),
        h("label", { for: `s5-${idName}` }, label, hint ? h("span", { class: "hint block" }, hint) : null),
      );
    const message = messageArea("step5-message");
    const submit = h("button", { type: "submit", id: "step5-submit", class: "button button--primary" }, "Submit Step 5 and start Step 6");

    const switches = h(
      "div",
      { class: "substep-switches" },
      PHASES.map((phase) =>
        h(
          "div",
          { class: "switch-phase" },
          h("p", { class: "switch-phase-title" }, `${phaseLabel(phase)} · ${PHASE_TITLES[phase]}`),
          subStepsOf(phase).map((spec) => check(`step-${spec.name}`, spec.name, locked ? enabled[spec.name] !== false : true, spec.label + (spec.blocking ? " · blocking" : ""))),
        ),
      ),
    );
    const off = SUB_STEPS.filter((spec) => enabled[spec.name] === false).map((spec) => spec.name);
    // Read-only, the twelve switches fold away behind a one-line summary.
    const switchesGroup = h(
      "fieldset",
      { class: "group group--wide" },
      h("legend", {}, "Step 6 sub-steps to run"),
      locked
        ? h(
            "details",
            { class: "switches-summary" },
            h("summary", {}, off.length ? `${SUB_STEPS.length - off.length} of ${SUB_STEPS.length} on; off: ${off.join(", ")}` : `All ${SUB_STEPS.length} on`),
            switches,
          )
        : [h("p", { class: "hint" }, "A sub-step switched off here is skipped (reason: disabled)."), switches],
    );

    const fields = h(
      "fieldset",
      { class: "step5-fields", disabled: locked },
      h("legend", { class: "visually-hidden" }, "Execution configuration"),
      h(
        "fieldset",
        { class: "group" },
        h("legend", {}, "Account"),
        check("registerNewUser", "Register a new user account", value(account.registerNewUser, true)),
        h("div", { class: "field" }, h("label", { for: "s5-email" }, "Account email"), h("input", { type: "email", id: "s5-email", name: "email", required: true, autocomplete: "off", value: value(account.email || "", restaurant.email || "") })),
        locked
          ? h("div", { class: "field" }, h("span", { class: "label" }, "Password"), h("p", { class: "readonly-value", id: "s5-password-state" }, account.password_set ? "Set — kept in Secrets Manager and never shown." : "Not set."))
          : h(
              "div",
              { class: "field" },
              h("label", { for: "s5-password" }, "Account password"),
              h("input", { type: "password", id: "s5-password", name: "password", autocomplete: "new-password", minlength: "12", maxlength: "128", "aria-describedby": "s5-password-hint" }),
              h("p", { class: "hint", id: "s5-password-hint" }, `${PASSWORD_HINT} Needed when registering a new user. It is stored in Secrets Manager and never shown again.`),
            ),
      ),
      h(
        "fieldset",
        { class: "group" },
        h("legend", {}, "Menu"),
        h("div", { class: "field" }, h("label", { for: "s5-selectedMenuId" }, "Menu to import (menu id; empty = none)"), h("input", { type: "text", id: "s5-selectedMenuId", name: "selectedMenuId", value: value(menu.selectedMenuId || "", (restaurant.menu && restaurant.menu.menu_id) || "") })),
        check("uploadImages", "Upload menu images", value(menu.uploadImages, true)),
        check("addOptionSets", "Add option sets", value(menu.addOptionSets, true)),
        check("addItemTags", "Add item tags", value(menu.addItemTags, true)),
      ),
      h(
        "fieldset",
        { class: "group" },
        h("legend", {}, "Onboarding"),
        check("createOnboardingUser", "Create the onboarding user", value(onboarding.createOnboardingUser, true)),
        check("syncOnboardingRecord", "Sync the onboarding record", value(onboarding.syncOnboardingRecord, true)),
      ),
      switchesGroup,
    );
    const form = h(
      "form",
      { id: "step5-form", class: locked ? "step5 is-locked" : "step5", "aria-describedby": locked ? "step5-locked-note" : false, onsubmit: (e) => submitStep5(e, form, submit, message) },
      locked
        ? h(
            "p",
            { class: "note note--locked", id: "step5-locked-note" },
            h("strong", {}, "Read-only: Step 5 is completed. "),
            "Step 6 has already used this configuration on the platform, and resuming Step 6 continues with exactly this configuration, so it can no longer be changed. ",
            job.resumable ? "To continue after a failure, use “Resume Step 6” below." : "",
          )
        : h("p", { class: "hint" }, "Review the configuration, then submit: Step 5 completes and Step 6 starts at once."),
      fields,
      locked ? null : h("div", { class: "form-actions" }, submit),
      message.el,
    );
    return form;
  }

  function readConfig(form) {
    const el = (name) => form.elements.namedItem(name);
    const checked = (name) => Boolean(el(name) && el(name).checked);
    const password = el("password") ? el("password").value : "";
    const stepsEnabled = Object.fromEntries(SUB_STEPS.map((s) => [s.name, checked(`step-${s.name}`)]));
    const account = { registerNewUser: checked("registerNewUser"), email: el("email").value.trim() };
    if (password) account.password = password;
    return {
      account,
      menu: {
        selectedMenuId: el("selectedMenuId").value.trim() || null,
        uploadImages: checked("uploadImages"),
        addOptionSets: checked("addOptionSets"),
        addItemTags: checked("addItemTags"),
      },
      onboarding: { createOnboardingUser: checked("createOnboardingUser"), syncOnboardingRecord: checked("syncOnboardingRecord") },
      steps_enabled: stepsEnabled,
    };
  }

  async function submitStep5(event, form, submit, message) {
    event.preventDefault();
    const config = readConfig(form);
    if (config.account.registerNewUser && config.steps_enabled.cloudwaitressAccount && !config.account.password) {
      message.show("error", "Enter a password: it is needed to register a new user account.");
      form.elements.namedItem("password").focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = "Submitting…";
    message.show("info", "Submitting Step 5…");
    message.focus();
    try {
      const answer = await api("POST", endpoints.step5(job.batch_id), { jobs: [{ job_id: job.job_id, execution_config: config }] }, { signal });
      const rejected = (answer.rejected || []).find((r) => r.job_id === job.job_id);
      if (rejected) {
        message.show("error", `Step 5 was not accepted: ${rejected.reason}`);
      } else {
        const password = form.elements.namedItem("password");
        if (password) password.value = "";
        resumeMessage.show("success", "Step 5 submitted: Step 6 has started.");
        resumeMessage.focus(); // the form is rebuilt read-only: continue where Step 6 is shown
        lastSignature = "";
        await load(true).catch(() => {});
        poll.kick();
        return; // the form is now locked (rebuilt by render)
      }
    } catch (error) {
      if (error.name === "AbortError" || signal.aborted) return;
      message.show("error", error.message);
    }
    submit.disabled = false;
    submit.textContent = "Submit Step 5 and start Step 6";
  }

  // ---------------------------------------------------------------- Step 6
  function renderStep6() {
    const running = isRunning(job);
    const failure = lastFailure(job);
    const s6 = step6Status(job);

    // The run banner.
    if (running) {
      const current = currentPhase(job);
      const now = current ? `${phaseLabel(current)} is running` : "starting";
      replaceChildren(
        runStatus,
        h("span", { class: "spinner", "aria-hidden": "true" }, "↻"),
        resumingFrom ? h("strong", {}, `Resuming from ${phaseLabel(resumingFrom)}`) : h("strong", {}, "Step 6 is running"),
        ` — ${now}. This page refreshes by itself.`,
      );
      runStatus.className = "run-status run-status--running";
    } else if (wasRunning) {
      const outcome = s6 === "completed" ? (phases(job).some((p) => p.status === "completed_with_errors") ? "Step 6 completed with errors" : "Step 6 completed") : `Step 6 stopped${failure && failure.phase ? ` at ${phaseLabel(failure.phase)}` : ""}`;
      const from = resumingFrom ? `Resumed from ${phaseLabel(resumingFrom)}: ` : "";
      replaceChildren(runStatus, h("strong", {}, `${from}${outcome}.`));
      runStatus.className = `run-status run-status--${s6 === "completed" ? "done" : "failed"}`;
      announce(`${from}${outcome}.`);
      resumeMessage.clear(); // "started"/"accepted" is history now: the banner has the outcome
      resumingFrom = null;
    } else if (!runStatus.textContent) {
      runStatus.className = "run-status";
    }
    wasRunning = running;

    // last_failure, stated plainly.
    if (failure) {
      const spec = failure.sub_step ? SUB_STEP_BY_NAME[failure.sub_step] : null;
      const where = [failure.phase ? `${phaseLabel(failure.phase)} (${PHASE_TITLES[failure.phase] || failure.phase})` : "", failure.sub_step ? `sub-step ${failure.sub_step}${spec ? ` (${spec.label})` : ""}` : ""].filter(Boolean).join(", ");
      const resolved = s6 === "completed" || running;
      replaceChildren(
        failureBox,
        h(
          "div",
          { class: `failure${resolved ? " failure--past" : ""}` },
          h("h3", {}, h("span", { class: "chip-icon", "aria-hidden": "true" }, "✕"), resolved ? " Previous failure" : " Last failure"),
          h("p", {}, `Step 6 failed${where ? ` in ${where}` : ""} on ${formatTime(failure.at)}.`),
          h("p", {}, "Error: ", h("span", { class: "error-text" }, failure.error)),
          failure.execution ? h("p", { class: "hint" }, "Execution: ", h("code", {}, failure.execution)) : null,
        ),
      );
    } else {
      failureBox.replaceChildren();
    }

    // The Resume button: shown when resumable (and kept, disabled, while a run is active).
    resumeShown = Boolean(job.resumable) || (running && resumeShown);
    resumeButton.hidden = !resumeShown;
    updateResumeButton();

    // Phases and sub-steps.
    replaceChildren(phasesBox, phases(job).map(phaseSection));
  }

  function updateResumeButton() {
    const running = isRunning(job);
    resumeButton.disabled = running || resumeRequesting || !job.resumable;
    if (!resumeShown) {
      resumeHint.textContent = step(job, 5).status === "completed" || running ? "" : "Submit Step 5 to start Step 6.";
    } else if (resumeRequesting) {
      resumeHint.textContent = "Asking the server to resume…";
    } else if (running) {
      resumeHint.textContent = "A Step 6 run is active, so Resume is disabled until it ends.";
    } else if (job.resume_from) {
      const n = phaseNumber(job.resume_from);
      resumeHint.textContent = `Continues from Phase ${n}. Completed sub-steps are not run again.`;
    } else {
      resumeHint.textContent = "Retries the sub-steps that did not succeed.";
    }
  }

  function phaseSection(ph) {
    const n = phaseNumber(ph.phase);
    const isResumePoint = !isRunning(job) && job.resumable && job.resume_from === ph.phase;
    const isCurrent = isRunning(job) && currentPhase(job) === ph.phase;
    return h(
      "section",
      { class: `phase phase--${ph.status}`, id: `phase-${n}`, "aria-labelledby": `phase-${n}-heading`, dataset: { phase: ph.phase, status: ph.status } },
      h(
        "div",
        { class: "phase-head" },
        h("h3", { id: `phase-${n}-heading` }, `Phase ${n} · ${PHASE_TITLES[ph.phase]}`),
        chip(ph.status, { label: `Phase ${n}` }),
        isResumePoint ? h("span", { class: "tag" }, "a resume starts here") : null,
        isCurrent ? h("span", { class: "tag tag--running" }, "running now") : null,
      ),
      h(
        "table",
        { class: "table substeps-table" },
        h("caption", { class: "visually-hidden" }, `Sub-steps of Phase ${n}`),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Sub-step"), h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Attempts"), h("th", { scope: "col" }, "Duration"), h("th", { scope: "col" }, "Error or skip reason"))),
        h(
          "tbody",
          {},
          ph.subSteps.map((sub) =>
            h(
              "tr",
              { dataset: { subStep: sub.name, status: sub.status } },
              h("th", { scope: "row", "data-label": "Sub-step" }, h("span", { class: "substep-name" }, sub.name), sub.spec ? h("span", { class: "hint block" }, sub.spec.label + (sub.spec.blocking ? " · blocking" : "")) : null),
              h("td", { "data-label": "Status" }, chip(sub.status)),
              h("td", { "data-label": "Attempts" }, String(sub.attempts ?? 0)),
              h("td", { "data-label": "Duration" }, formatDuration(durationOf(sub))),
              h("td", { "data-label": "Details", class: sub.error || sub.skip_reason ? "details-cell" : "details-cell is-empty" }, sub.error ? h("span", { class: "error-text" }, sub.error) : sub.skip_reason ? SKIP_WORDS[sub.skip_reason] || `Skipped: ${sub.skip_reason}.` : "–"),
            ),
          ),
        ),
      ),
    );
  }

  async function resume() {
    if (resumeRequesting || isRunning(job)) return;
    resumeRequesting = true;
    updateResumeButton();
    resumeMessage.show("info", "Asking to resume Step 6…");
    resumeMessage.focus();
    try {
      const answer = await api("POST", endpoints.resumeJob(job.job_id), undefined, { signal });
      resumingFrom = answer.resume_from || job.resume_from || null;
      const text = `Resume accepted: resuming from ${phaseLabel(resumingFrom) || "the resume point"}.`;
      resumeMessage.show("success", text);
      // Until the next read shows the run, treat it as active.
      job = { ...job, active_execution: answer.execution_arn || job.active_execution || "starting" };
      wasRunning = false;
      renderStep6();
    } catch (error) {
      if (error.name === "AbortError" || signal.aborted) return;
      resumeMessage.show("error", error.message);
    } finally {
      resumeRequesting = false;
      updateResumeButton();
    }
    lastSignature = "";
    await load(true).catch(() => {});
    poll.kick();
  }

  // ---------------------------------------------------------------- audit trail
  async function loadEvents() {
    try {
      const data = await api("GET", endpoints.jobEvents(id), undefined, { signal });
      const events = data.events || [];
      replaceChildren(
        eventsList,
        events.length
          ? h(
              "ol",
              { class: "events" },
              events.map((e) => h("li", {}, timeElement(e.at), " ", h("strong", {}, e.type.replaceAll("_", " ")), eventDetail(e.detail))),
            )
          : h("p", { class: "hint" }, "No events yet."),
      );
    } catch (error) {
      if (error.name !== "AbortError" && !signal.aborted) replaceChildren(eventsList, h("p", { class: "message message--error", role: "alert" }, error.message));
    }
  }

  function eventDetail(detail) {
    if (!detail) return null;
    const parts = [];
    if (detail.resume_from) parts.push(`from ${phaseLabel(detail.resume_from)}`);
    if (detail.phase) parts.push(phaseLabel(detail.phase));
    if (detail.sub_step) parts.push(detail.sub_step);
    if (detail.job_status) parts.push(`job ${statusText(detail.job_status)}`);
    if (detail.error) parts.push(detail.error);
    return parts.length ? h("span", { class: "muted" }, ` — ${parts.join(" · ")}`) : null;
  }

  load(true).catch(() => {});
}
