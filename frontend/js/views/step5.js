// The Step 5 (Yolo Mode configuration) part of the job view: a component that takes the job and
// returns the form (editable or read-only), and the reading of the form into an
// execution_config request body.
import { PHASES, SUB_STEPS, phaseLabel, phaseTitle, subStepsOf } from "../catalogue.js";
import { h, messageArea, statusText } from "../ui.js";

export const PASSWORD_HINT = "At least 12 characters (at most 128), with a letter and a digit, no leading or trailing spaces.";
const SUBMIT_LABEL = "Submit Step 5 and start Step 6";

/** "waiting" (Steps 1–4 not done), "editable" or "locked" (Step 5 completed). */
export function step5Mode(job) {
  if (job.step5Status === "completed") return "locked";
  if (job.step5Status === "action_required" || job.step5Status === "failed") return "editable";
  return "waiting";
}

/**
 * The Step 5 body for `mode`. `onSubmit(config)` sends it and resolves to {ok: true},
 * {aborted: true} or {error: "text"}; on success the caller rebuilds this part (read-only).
 */
export function step5Body(job, mode, onSubmit) {
  if (mode === "waiting") return h("p", { class: "note" }, `Step 5 opens when Steps 1–4 are completed (it is ${statusText(job.step5Status)}).`);
  return step5Form(job, mode === "locked", onSubmit);
}

/** A labelled checkbox named `idName`; `prefix` keeps ids unique when two forms share a page. */
export function check(idName, label, checked, hint = "", prefix = "s5") {
  return h(
    "div",
    { class: "check" },
    h("input", { type: "checkbox", id: `${prefix}-${idName}`, name: idName, checked: Boolean(checked) }),
    h("label", { for: `${prefix}-${idName}` }, label, hint ? h("span", { class: "hint block" }, hint) : null),
  );
}

/** The twelve sub-step switches (named `step-<name>`), folded when read-only. */
export function subStepSwitches(enabled, locked, prefix = "s5") {
  const switches = h(
    "div",
    { class: "substep-switches" },
    PHASES.map((phase) =>
      h(
        "div",
        { class: "switch-phase" },
        h("p", { class: "switch-phase-title" }, `${phaseLabel(phase)} · ${phaseTitle(phase)}`),
        subStepsOf(phase).map((spec) => check(`step-${spec.name}`, spec.name, locked ? enabled[spec.name] !== false : true, spec.label + (spec.blocking ? " · blocking" : ""), prefix)),
      ),
    ),
  );
  const off = SUB_STEPS.filter((spec) => enabled[spec.name] === false).map((spec) => spec.name);
  // Read-only, the twelve switches fold away behind a one-line summary.
  return h(
    "fieldset",
    { class: "group group--wide" },
    h("legend", {}, "Step 6 sub-steps to run"),
    locked
      ? h("details", { class: "switches-summary" }, h("summary", {}, off.length ? `${SUB_STEPS.length - off.length} of ${SUB_STEPS.length} on; off: ${off.join(", ")}` : `All ${SUB_STEPS.length} on`), switches)
      : [h("p", { class: "hint" }, "A sub-step switched off here is skipped (reason: disabled)."), switches],
  );
}

function configFields(job, locked) {
  // Read-only: what was submitted. Editable: fresh defaults from the restaurant.
  const given = locked && job.config;
  const account = given ? job.config.account : { registerNewUser: true, email: job.defaults.email, passwordSet: false };
  const menu = given ? job.config.menu : { selectedMenuId: job.defaults.menuId, uploadImages: true, addOptionSets: true, addItemTags: true };
  const onboarding = given ? job.config.onboarding : { createOnboardingUser: true, syncOnboardingRecord: true };
  const enabled = given ? job.config.stepsEnabled : {};
  return h(
    "fieldset",
    { class: "step5-fields", disabled: locked },
    h("legend", { class: "visually-hidden" }, "Execution configuration"),
    h(
      "fieldset",
      { class: "group" },
      h("legend", {}, "Account"),
      check("registerNewUser", "Register a new user account", account.registerNewUser),
      h("div", { class: "field" }, h("label", { for: "s5-email" }, "Account email"), h("input", { type: "email", id: "s5-email", name: "email", required: true, autocomplete: "off", value: account.email || "" })),
      locked
        ? h("div", { class: "field" }, h("span", { class: "label" }, "Password"), h("p", { class: "readonly-value", id: "s5-password-state" }, account.passwordSet ? "Set — kept in Secrets Manager until the platform account exists, never shown." : "Not set."))
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
      h("div", { class: "field" }, h("label", { for: "s5-selectedMenuId" }, "Menu to import (menu id; empty = none)"), h("input", { type: "text", id: "s5-selectedMenuId", name: "selectedMenuId", value: menu.selectedMenuId || "" })),
      check("uploadImages", "Upload menu images", menu.uploadImages),
      check("addOptionSets", "Add option sets", menu.addOptionSets),
      check("addItemTags", "Add item tags", menu.addItemTags),
    ),
    h(
      "fieldset",
      { class: "group" },
      h("legend", {}, "Onboarding"),
      check("createOnboardingUser", "Create the onboarding user", onboarding.createOnboardingUser),
      check("syncOnboardingRecord", "Sync the onboarding record", onboarding.syncOnboardingRecord),
    ),
    subStepSwitches(enabled, locked),
  );
}

function step5Form(job, locked, onSubmit) {
  const message = messageArea("step5-message");
  const submit = h("button", { type: "submit", id: "step5-submit", class: "button button--primary" }, SUBMIT_LABEL);
  const form = h(
    "form",
    { id: "step5-form", class: locked ? "step5 is-locked" : "step5", "aria-describedby": locked ? "step5-locked-note" : false, onsubmit: (event) => submitted(event) },
    locked
      ? h(
          "p",
          { class: "note note--locked", id: "step5-locked-note" },
          h("strong", {}, "Read-only: Step 5 is completed. "),
          "Step 6 has already used this configuration on the platform, and resuming Step 6 continues with exactly this configuration, so it can no longer be changed. ",
          job.resumable ? "To continue after a failure, use “Resume Step 6” below." : "",
        )
      : h("p", { class: "hint" }, "Review the configuration, then submit: Step 5 completes and Step 6 starts at once."),
    configFields(job, locked),
    locked ? null : h("div", { class: "form-actions" }, submit),
    message.el,
  );

  async function submitted(event) {
    event.preventDefault();
    const config = readStep5Form(form);
    if (config.account.registerNewUser && config.steps_enabled.cloudwaitressAccount && !config.account.password) {
      message.show("error", "Enter a password: it is needed to register a new user account.");
      form.elements.namedItem("password").focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = "Submitting…";
    message.show("info", "Submitting Step 5…");
    message.focus();
    const outcome = await onSubmit(config);
    if (outcome.aborted) return;
    if (outcome.ok) {
      const password = form.elements.namedItem("password");
      if (password) password.value = "";
      return; // the caller rebuilds this part, read-only
    }
    message.show("error", outcome.error);
    submit.disabled = false;
    submit.textContent = SUBMIT_LABEL;
  }

  return form;
}

/** The form's values as an ExecutionConfigInput request body. */
export function readStep5Form(form) {
  const el = (name) => form.elements.namedItem(name);
  const checked = (name) => Boolean(el(name) && el(name).checked);
  const password = el("password") ? el("password").value : "";
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
    steps_enabled: Object.fromEntries(SUB_STEPS.map((s) => [s.name, checked(`step-${s.name}`)])),
  };
}
