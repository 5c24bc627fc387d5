// Bulk Step 5: ONE form for many jobs (POST /operations, action submit_step5). One execution
// config for all (the switches and options of step5.js), a per-job email column prefilled with
// each restaurant's own email (sent as a `per_job` override only when changed), generated
// passwords or one typed password, and the operation's concurrency bound.
import { SUB_STEPS } from "../catalogue.js";
import { h, messageArea, replaceChildren } from "../ui.js";
import { DEFAULT_CONCURRENCY } from "./confirm.js";
import { PASSWORD_HINT, check, subStepSwitches } from "./step5.js";

const P = "b5"; // id prefix: the job view's Step 5 form uses "s5"
const EMAIL_PAGE = 50;

/**
 * bulkStep5Form({count, describe, pageOfJobs, emailOf, onSubmit, onClose})
 * - count: how many jobs the operation selects; describe: "the 3 selected jobs" / "all 200 matching jobs";
 * - pageOfJobs(cursor) -> Promise<{jobs: [{jobId, name}], nextCursor}>: the jobs, a page at a time;
 * - emailOf(jobId) -> Promise<string>: the restaurant's own email (the prefill);
 * - onSubmit(body) -> Promise<{ok} | {error}>: body = {execution_config, per_job?, generate_passwords, max_concurrency}.
 */
export function bulkStep5Form({ count, describe, pageOfJobs, emailOf, onSubmit, onClose }) {
  const message = messageArea("bulk5-message");
  const own = new Map(); // jobId -> the restaurant's own email, once known
  const edited = new Map(); // jobId -> the email typed here
  const cursors = [null]; // cursors[i] opens email page i
  let pageIndex = 0;
  let nextCursor = null;

  const generate = h("input", { type: "checkbox", id: `${P}-generate`, name: "generatePasswords", checked: true, onchange: syncPassword });
  const password = h("input", { type: "password", id: `${P}-password`, name: "password", autocomplete: "new-password", minlength: "12", maxlength: "128", disabled: true, "aria-describedby": `${P}-password-hint` });
  const concurrency = h("input", { type: "number", id: `${P}-concurrency`, name: "max_concurrency", min: "1", max: "1000", required: true, value: String(DEFAULT_CONCURRENCY) });
  const emailRows = h("tbody", {});
  const emailNav = h("div", { class: "pager", id: "bulk5-email-pager" });
  const submit = h("button", { type: "submit", id: "bulk5-submit", class: "button button--primary" }, `Submit Step 5 for ${count} job${count === 1 ? "" : "s"}`);

  function syncPassword() {
    password.disabled = generate.checked;
    password.required = !generate.checked;
    if (generate.checked) password.value = "";
  }

  const form = h(
    "form",
    { id: "bulk5-form", class: "step5 bulk5", "aria-labelledby": "bulk5-heading", onsubmit: submitted },
    h("h3", { id: "bulk5-heading" }, `Bulk Step 5 for ${describe}`),
    h("p", { class: "hint" }, "One configuration for every job. Each job's account email is its restaurant's own unless you change it below; each imports its restaurant's own menu. Jobs whose Step 5 is already completed are rejected, each with its reason."),
    h(
      "fieldset",
      { class: "step5-fields" },
      h("legend", { class: "visually-hidden" }, "Execution configuration for all the jobs"),
      h(
        "fieldset",
        { class: "group" },
        h("legend", {}, "Account"),
        check("registerNewUser", "Register a new user account", true, "", P),
        h("div", { class: "check" }, generate, h("label", { for: `${P}-generate` }, "Generate a password for each account", h("span", { class: "hint block" }, "Strong and random, one per job; kept in Secrets Manager, never shown."))),
        h("div", { class: "field" }, h("label", { for: `${P}-password` }, "One password for all the accounts"), password, h("p", { class: "hint", id: `${P}-password-hint` }, `${PASSWORD_HINT} Only when not generating.`)),
      ),
      h(
        "fieldset",
        { class: "group" },
        h("legend", {}, "Menu"),
        check("uploadImages", "Upload menu images", true, "", P),
        check("addOptionSets", "Add option sets", true, "", P),
        check("addItemTags", "Add item tags", true, "", P),
      ),
      h(
        "fieldset",
        { class: "group" },
        h("legend", {}, "Onboarding"),
        check("createOnboardingUser", "Create the onboarding user", true, "", P),
        check("syncOnboardingRecord", "Sync the onboarding record", true, "", P),
        h("div", { class: "field field--narrow" }, h("label", { for: `${P}-concurrency` }, "At most this many at a time"), concurrency, h("p", { class: "hint" }, "1 to 1,000 Step 6 runs at the same moment.")),
      ),
      subStepSwitches({}, false, P),
    ),
    h(
      "details",
      { class: "bulk5-emails", id: "bulk5-emails", ontoggle: (e) => e.target.open && !emailRows.children.length && showEmailPage(0) },
      h("summary", {}, "Account email per job (prefilled with each restaurant's own)"),
      h("table", { class: "table emails-table" }, h("caption", { class: "visually-hidden" }, "Account email per job"), h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Restaurant"), h("th", { scope: "col" }, "Account email"))), emailRows),
      emailNav,
    ),
    h("div", { class: "form-actions" }, submit, " ", h("button", { type: "button", class: "button", onclick: onClose }, "Close")),
    message.el,
  );

  async function showEmailPage(index) {
    replaceChildren(emailRows, h("tr", {}, h("td", { colspan: "2", class: "loading" }, "Loading the jobs…")));
    let page;
    try {
      page = await pageOfJobs(cursors[index]);
    } catch (error) {
      replaceChildren(emailRows, h("tr", {}, h("td", { colspan: "2", class: "error-text" }, error.message)));
      return;
    }
    pageIndex = index;
    nextCursor = page.nextCursor;
    if (nextCursor) cursors[index + 1] = nextCursor;
    replaceChildren(emailRows, page.jobs.map(emailRow));
    replaceChildren(
      emailNav,
      h("button", { type: "button", class: "button button--quiet", disabled: index === 0, onclick: () => showEmailPage(pageIndex - 1) }, "Previous"),
      h("span", { class: "muted" }, ` Jobs ${index * EMAIL_PAGE + 1}–${index * EMAIL_PAGE + page.jobs.length} of ${count} `),
      h("button", { type: "button", class: "button button--quiet", disabled: !nextCursor, onclick: () => showEmailPage(pageIndex + 1) }, "Next"),
    );
  }

  function emailRow(job) {
    const id = `${P}-email-${job.jobId}`;
    const input = h("input", {
      type: "email",
      id,
      name: `email-${job.jobId}`,
      autocomplete: "off",
      dataset: { jobId: job.jobId },
      value: edited.get(job.jobId) ?? own.get(job.jobId) ?? "",
      placeholder: own.has(job.jobId) ? "" : "loading…",
      oninput: (e) => edited.set(job.jobId, e.target.value.trim()),
    });
    if (!own.has(job.jobId)) {
      emailOf(job.jobId)
        .then((email) => {
          own.set(job.jobId, email);
          if (!edited.has(job.jobId)) input.value = email;
          input.placeholder = "";
        })
        .catch(() => {
          input.placeholder = "the restaurant's own";
        });
    }
    return h("tr", { dataset: { jobId: job.jobId } }, h("th", { scope: "row" }, h("label", { for: id }, job.name)), h("td", {}, input));
  }

  /** Only the emails that differ from the restaurant's own go as per-job overrides. */
  function perJob() {
    const overrides = {};
    for (const [jobId, email] of edited) if (email && email !== own.get(jobId)) overrides[jobId] = { account: { email } };
    return overrides;
  }

  function readConfig() {
    const checked = (name) => Boolean(form.elements.namedItem(name).checked);
    const account = { registerNewUser: checked("registerNewUser") };
    if (!generate.checked && password.value) account.password = password.value;
    const menu = { uploadImages: checked("uploadImages"), addOptionSets: checked("addOptionSets"), addItemTags: checked("addItemTags") };
    // No selectedMenuId: each job imports its restaurant's own menu (switch menuImport off for none).
    return {
      account,
      menu,
      onboarding: { createOnboardingUser: checked("createOnboardingUser"), syncOnboardingRecord: checked("syncOnboardingRecord") },
      steps_enabled: Object.fromEntries(SUB_STEPS.map((s) => [s.name, checked(`step-${s.name}`)])),
    };
  }

  async function submitted(event) {
    event.preventDefault();
    const config = readConfig();
    if (config.account.registerNewUser && !generate.checked && !password.value) {
      message.show("error", "Enter a password, or let the page generate one per account: registering new users needs one.");
      password.focus();
      return;
    }
    if (!concurrency.checkValidity()) {
      concurrency.reportValidity();
      return;
    }
    const overrides = perJob();
    const body = { execution_config: config, generate_passwords: generate.checked, max_concurrency: Number(concurrency.value) };
    if (Object.keys(overrides).length) body.per_job = overrides;
    submit.disabled = true;
    message.show("info", `Starting Step 5 for ${count} job${count === 1 ? "" : "s"}…`);
    message.focus();
    const outcome = await onSubmit(body);
    if (outcome.aborted) return;
    submit.disabled = false;
    if (outcome.ok) {
      password.value = "";
      message.show("success", outcome.text || "Started.", ...(outcome.more || []));
    } else {
      message.show("error", outcome.error);
    }
  }

  return form;
}
