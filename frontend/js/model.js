// The one module that reads the API's JSON, exactly as docs/openapi.json declares it (the
// response models of src/handlers/api_models.py): no other field names, no fallbacks.
//
// Convention, checked by tests/contract/test_page_contract.py:
// - API data is read here and nowhere else, by plain property access (`job.step6`);
// - nothing else is read here by property access: catalogue entries go through the helpers
//   of catalogue.js, and the objects built here are returned, never read back;
// - every other module works on the plain objects returned here (camelCase fields).
// A map the API declares as one (phases, sub_steps, job_counts, steps_enabled, an event's
// detail) is read as a map: by key, or with Object.entries.
import { PHASES, phaseLabel, subStepNames } from "./catalogue.js";

// ------------------------------------------------------------------ errors: ErrorBody

/** {statusCode, error, message, active_execution?, fields?} -> {code, message, fields, activeExecution}. */
export function readError(body) {
  if (!body || typeof body !== "object") return { code: "", message: "", fields: [], activeExecution: null };
  return {
    code: body.error || "",
    message: body.message || "",
    fields: (body.fields || []).map((f) => ({ field: f.field, message: f.message, type: f.type, usedBy: f.used_by || [] })),
    activeExecution: body.active_execution || null,
  };
}

// ------------------------------------------------------------------ pieces

function readSteps(steps) {
  return steps.map((s) => ({ step: s.step, name: s.name, status: s.status, source: s.source || null, completedAt: s.completed_at || null }));
}

function stepStatus(steps, n) {
  const found = steps.find((s) => s.step === n);
  return found ? found.status : "pending";
}

function readFailure(failure) {
  if (!failure) return null;
  return {
    step: failure.step || null,
    phase: failure.phase || null,
    subStep: failure.sub_step || null,
    error: failure.error,
    errorCode: failure.error_code || null,
    retryable: Boolean(failure.retryable),
    platformCode: failure.platform_code || null,
    at: failure.at,
    execution: failure.execution || null,
    executionError: failure.execution_error || null,
  };
}

const NO_SUB_STEP = { status: "pending", attempts: 0, error: null, errorCode: null, retryable: null, platformCode: null, skipReason: null, blockedBy: [], skipNote: null, skippedBy: null, startedAt: null, finishedAt: null, durationMs: null };

function readSubStep(name, sub) {
  if (!sub) return { name, ...NO_SUB_STEP };
  const duration = typeof sub.duration_ms === "number" ? sub.duration_ms : sub.started_at && sub.finished_at ? new Date(sub.finished_at).getTime() - new Date(sub.started_at).getTime() : null;
  return {
    name,
    status: sub.status,
    attempts: sub.attempts,
    error: sub.error || null,
    errorCode: sub.error_code || null,
    retryable: typeof sub.retryable === "boolean" ? sub.retryable : null,
    platformCode: sub.platform_code || null,
    skipReason: sub.skip_reason || null,
    blockedBy: sub.blocked_by || [],
    skipNote: sub.skip_note || null,
    skippedBy: sub.skipped_by || null,
    startedAt: sub.started_at || null,
    finishedAt: sub.finished_at || null,
    durationMs: duration,
  };
}

/** SubStepProgressView.phases (a map, entries only for phases that began) -> the four phases in order. */
function readPhases(phaseMap) {
  return PHASES.map((phase) => {
    const given = phaseMap[phase];
    const subs = given ? given.sub_steps : {};
    const known = subStepNames(phase);
    const names = [...known, ...Object.keys(subs).filter((n) => !known.includes(n))];
    return { phase, status: given ? given.status : "pending", subSteps: names.map((name) => readSubStep(name, subs[name])) };
  });
}

/**
 * Where Step 6 stands, in a few words ("in Phase 2", "failed at Phase 2", …), from facts both
 * job shapes carry. Arguments are plain values: nothing built here is read back.
 */
function summary(running, currentPhase, s6, failure, jobStatus, step5) {
  if (failure && failure.step && !running && s6 !== "completed" && s6 !== "completed_with_errors") return { status: "pending", text: "waits for Steps 1–5" };
  if (running) return { status: "in_progress", text: currentPhase ? `in ${phaseLabel(currentPhase)}` : "starting" };
  if (failure && (s6 === "failed" || jobStatus === "action_required" || jobStatus === "failed")) {
    return { status: "failed", text: failure.phase ? `failed at ${phaseLabel(failure.phase)}` : "failed" };
  }
  // Step 6's own status decides (the phases' chips come from the same run, so they agree).
  if (s6 === "completed_with_errors") return { status: "completed_with_errors", text: "completed with errors" };
  if (s6 === "completed") return { status: "completed", text: "all 4 phases done" };
  if (step5 !== "completed") return { status: "pending", text: "waits for Step 5" };
  return { status: s6 || "pending", text: "not started" };
}

/** The job's status as shown: a completed job whose Step 6 completed with errors says so. */
function shownStatus(jobStatus, s6) {
  return jobStatus === "completed" && s6 === "completed_with_errors" ? "completed_with_errors" : jobStatus;
}

/** Step 6 runs (a job's status is in_progress during Steps 1–4 too: that is pipelineRunning). */
function isRunning(job) {
  return Boolean(job.active_execution) || (job.status === "in_progress" && job.current_step >= 5) || job.step6.status === "in_progress";
}

/** Steps 1–4 are working on the job (Step 1's extraction, Step 3's register search, Step 4). */
function isPipelineRunning(job) {
  return job.current_step <= 4 && (job.status === "in_progress" || job.steps.some((s) => s.step <= 4 && s.status === "in_progress"));
}

// ------------------------------------------------------------------ jobs

/** JobView (GET /registration-batches/jobs/{jobId}). */
export function readJob(job) {
  const progress = job.step6.sub_step_progress;
  const running = isRunning(job);
  return {
    jobId: job.job_id,
    batchId: job.batch_id,
    name: job.restaurant.name,
    status: shownStatus(job.status, job.step6.status),
    currentStep: job.current_step,
    steps: readSteps(job.steps),
    step5Status: stepStatus(job.steps, 5),
    step6Status: job.step6.status,
    currentPhase: progress.current_phase || null,
    phases: readPhases(progress.phases),
    lastFailure: readFailure(job.last_failure),
    resumable: job.resumable,
    resumeFrom: job.resume_from || null,
    activeExecution: job.active_execution || null,
    running,
    summary: summary(running, progress.current_phase, job.step6.status, job.last_failure, job.status, stepStatus(job.steps, 5)),
    pipelineRunning: isPipelineRunning(job),
    runNumber: job.run_number,
    updatedAt: job.updated_at,
    config: readConfig(job.execution_config),
    defaults: { email: job.restaurant.email || "", menuId: job.restaurant.menu ? job.restaurant.menu.menu_id : null },
    restaurant: readRestaurant(job.restaurant),
    site: job.site ? { url: job.site.url, categories: job.site.categories, items: job.site.items, skippedItems: job.site.skipped_items } : null,
    step2: job.step2 ? readContacts(job.step2.candidates) : null,
    step3: job.step3 ? readCompanies(job.step3) : null,
  };
}

/** Restaurant (whole) or Prospect (a website job before Step 4 completes: parts may be null). */
function readRestaurant(r) {
  const b = r.branding;
  const c = r.company;
  return {
    name: r.name,
    websiteUrl: r.website_url || null,
    email: r.email || null,
    phone: r.phone || null,
    branding: b ? { primaryColor: b.primary_color || null, secondaryColor: b.secondary_color || null, logoUrl: b.logo_url || null, font: b.font || null } : null,
    menu: r.menu ? { menuId: r.menu.menu_id, categories: r.menu.categories.map((cat) => ({ name: cat.name, items: cat.items.map((i) => ({ name: i.name, description: i.description || "", price: i.price, imageUrl: i.image_url || null })) })) } : null,
    company: c ? { name: c.name, number: c.number || null, address: c.address || null, directors: [...(c.directors || [])] } : null,
  };
}

/** Step2View.candidates: the distinct emails and phones found, and where. */
function readContacts(candidates) {
  return { emails: [...candidates.emails], phones: [...candidates.phones], sources: [...candidates.sources] };
}

/** Step3View: the register's matches, why it could not be searched, the operator's choice. */
function readCompanies(step3) {
  return {
    candidates: step3.candidates.map((c) => ({ companyNumber: c.company_number, name: c.name, address: c.address || "" })),
    searchError: step3.search_error || null,
    companyNumber: step3.company_number || null,
  };
}

/** ExecutionConfigView (the password never: only whether one is set). */
function readConfig(config) {
  if (!config) return null;
  return {
    account: { registerNewUser: config.account.registerNewUser, email: config.account.email, passwordSet: config.account.password_set },
    menu: { selectedMenuId: config.menu.selectedMenuId || null, uploadImages: config.menu.uploadImages, addOptionSets: config.menu.addOptionSets, addItemTags: config.menu.addItemTags },
    onboarding: { createOnboardingUser: config.onboarding.createOnboardingUser, syncOnboardingRecord: config.onboarding.syncOnboardingRecord },
    stepsEnabled: { ...config.steps_enabled },
  };
}

/** JobSummary (a row of BatchView.jobs and of a JobPage). */
function readJobRow(job) {
  const running = isRunning(job);
  const failure = job.last_failure;
  return {
    jobId: job.job_id,
    name: job.restaurant_name,
    status: shownStatus(job.status, job.step6.status),
    currentStep: job.current_step,
    steps: readSteps(job.steps),
    step5Status: stepStatus(job.steps, 5),
    resumable: job.resumable,
    resumeFrom: job.resume_from || null,
    running,
    pipelineRunning: isPipelineRunning(job),
    failedStep: (failure && failure.step) || null,
    summary: summary(running, job.step6.current_phase, job.step6.status, job.last_failure, job.status, stepStatus(job.steps, 5)),
    // Why it stopped, when it did: the sub-step's name and a short cause (the list's own fields
    // when the server gives them, else the last failure's).
    failedSubStep: job.failed_sub_step || (failure && failure.sub_step) || null,
    errorCode: job.error_code || (failure && failure.error_code) || null,
    shortError: job.short_error || (failure && failure.error) || null,
    updatedAt: job.updated_at,
  };
}

/** JobPage (GET /registration-batches/{batchId}/jobs): one page of rows and the matching total. */
export function readJobPage(page) {
  return { jobs: page.jobs.map(readJobRow), nextCursor: page.next_cursor || null, total: page.total };
}

// ------------------------------------------------------------------ failures

/** FailureGroups (GET /failures): the failures grouped by cause, as the API orders them. */
export function readFailures(list) {
  return list.groups.map((g) => ({
    step: g.step || null,
    phase: g.phase || null,
    subStep: g.sub_step || null,
    errorCode: g.error_code || null,
    platformCode: g.platform_code || null,
    sampleError: g.sample_error || "",
    count: g.count,
    resumableCount: g.resumable_count,
  }));
}

// ------------------------------------------------------------------ bulk operations

/** OperationView (POST /operations, GET /operations/{id}). `selector` is a map of filters. */
export function readOperation(op) {
  return {
    operationId: op.operation_id,
    action: op.action,
    status: op.status,
    selector: Object.entries(op.selector).filter(([, v]) => v !== null && v !== undefined),
    maxConcurrency: op.max_concurrency,
    counts: readOperationCounts(op.counts),
    createdAt: op.created_at,
    actor: op.actor || null,
  };
}

function readOperationCounts(counts) {
  return {
    matched: counts.matched,
    pending: counts.pending,
    running: counts.running,
    succeeded: counts.succeeded,
    failed: counts.failed,
    rejected: counts.rejected,
    cancelled: counts.cancelled,
  };
}

/** OperationList (GET /operations). */
export function readOperationList(list) {
  return { operations: list.operations.map(readOperation), nextCursor: list.next_cursor || null };
}

/** OperationJobs (GET /operations/{id}/jobs). */
export function readOperationJobs(list) {
  return {
    jobs: list.jobs.map((j) => ({ jobId: j.job_id, name: j.restaurant_name, outcome: j.outcome, code: j.code || null, reason: j.reason || null, executionArn: j.execution_arn || null })),
    nextCursor: list.next_cursor || null,
  };
}

// ------------------------------------------------------------------ batches

function readBatchFacts(batch) {
  return { batchId: batch.batch_id, name: batch.name, status: batch.status, jobCounts: { ...batch.job_counts }, jobTotal: batch.job_total, createdAt: batch.created_at };
}

/** BatchList (GET /registration-batches): a page of batches, and the cursor of the next. */
export function readBatchList(list) {
  return { batches: list.batches.map(readBatchFacts), nextCursor: list.next_cursor || null };
}

/** BatchView (GET /registration-batches/{batchId}). */
export function readBatch(batch) {
  return { ...readBatchFacts(batch), jobs: batch.jobs.map(readJobRow) };
}

/** CreatedBatch (POST /registration-batches). */
export function readCreatedBatch(created) {
  return { batchId: created.batch_id, name: created.name, jobIds: created.jobs.map((j) => j.job_id) };
}

// ------------------------------------------------------------------ actions

/** StartedJob (POST …/jobs/{jobId}/resume-step-6). */
export function readStarted(started) {
  return { jobId: started.job_id, executionArn: started.execution_arn, resumeFrom: started.resume_from };
}

/** SettledJobs (POST …/step-5 and …/{batchId}/resume-step-6). */
export function readSettled(settled) {
  return {
    accepted: settled.accepted.map(readStarted),
    rejected: settled.rejected.map((r) => ({ jobId: r.job_id, code: r.code, reason: r.reason, activeExecution: r.active_execution || null })),
  };
}

// ------------------------------------------------------------------ audit trail

/** EventList: `detail` is a free map, shown as its [key, value] entries. */
export function readEvents(list) {
  return list.events.map((e) => ({ at: e.at, type: e.type, actor: e.actor || null, detail: Object.entries(e.detail) }));
}

// ------------------------------------------------------------------ runs and operator actions

function readRunSubStep(name, sub) {
  return { name, status: sub.status, attempts: sub.attempts, startedAt: sub.started_at || null, endedAt: sub.ended_at || null, errorCode: sub.error_code || null, error: sub.error || null, skipReason: sub.skip_reason || null };
}

/** RunList (GET …/jobs/{jobId}/runs): newest first, as the API gives them. */
export function readRuns(list) {
  return list.runs.map((r) => ({
    run: r.run,
    executionArn: r.execution_arn,
    trigger: r.trigger,
    actor: r.actor || null,
    resumeFrom: r.resume_from || null,
    startedAt: r.started_at,
    endedAt: r.ended_at || null,
    status: r.status,
    step6Status: r.step6_status || null,
    errorCode: r.error_code || null,
    subSteps: Object.entries(r.sub_steps).map(([name, sub]) => readRunSubStep(name, sub)),
  }));
}

/** CancelledRun (POST …/cancel). */
export function readCancelled(cancelled) {
  return { jobId: cancelled.job_id, executionArn: cancelled.execution_arn };
}

/** RerunStarted (POST …/rerun). */
export function readRerun(started) {
  return { jobId: started.job_id, executionArn: started.execution_arn, resumeFrom: started.resume_from, reset: [...started.reset] };
}
