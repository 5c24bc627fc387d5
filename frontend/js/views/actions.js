// The operator's fixes for one job, as components: which actions apply now, and the forms of
// Fix configuration, Re-run… and Skip…. Each form takes the job (as model.js reads it) and a
// callback; the controller (job.js) sends the request and shows its outcome next to the form.
import { PHASES, SUB_STEPS, configFieldsOf, dependentsOf, isBlocking, isRerunnable, phaseLabel, readersOf, rerunClosure, subStepLabel, subStepsOf } from "../catalogue.js";
import { h, statusText } from "../ui.js";

function subStatuses(job) {
  const map = new Map();
  for (const ph of job.phases) for (const sub of ph.subSteps) map.set(sub.name, sub);
  return map;
}

function completedNames(job) {
  return [...subStatuses(job).values()].filter((s) => s.status === "completed").map((s) => s.name);
}

/** Failed, or skipped because a dependency did not succeed, and not blocking. */
export function skippable(job) {
  return [...subStatuses(job).values()].filter((s) => !isBlocking(s.name) && (s.status === "failed" || (s.status === "skipped" && s.skipReason === "dependency_not_met")));
}

/** Completed sub-steps that may be re-run. */
export function rerunnable(job) {
  return completedNames(job).filter(isRerunnable);
}

/** Which actions apply now: {resume, fix, rerun, skip, cancel} booleans. */
export function applicableActions(job) {
  const settled = !job.running && job.step5Status === "completed";
  const ran = job.phases.some((p) => p.status !== "pending");
  return {
    resume: job.resumable || job.running,
    fix: settled && job.step6Status !== "completed" && configPaths().some((p) => !lockedBy(job, p).length),
    rerun: settled && ran && rerunnable(job).length > 0,
    skip: settled && skippable(job).length > 0,
    cancel: job.running,
  };
}

// ---------------------------------------------------------------- Fix configuration

const FIELDS = [
  { path: "account.registerNewUser", label: "Register a new user account", kind: "check" },
  { path: "account.email", label: "Email", kind: "email" },
  { path: "account.password", label: "New password", kind: "password" },
  { path: "menu.selectedMenuId", label: "Selected menu id", kind: "text" },
  { path: "menu.uploadImages", label: "Upload menu images", kind: "check" },
  { path: "menu.addOptionSets", label: "Add option sets", kind: "check" },
  { path: "menu.addItemTags", label: "Add item tags", kind: "check" },
  { path: "onboarding.createOnboardingUser", label: "Create the onboarding user", kind: "check" },
  { path: "onboarding.syncOnboardingRecord", label: "Sync the onboarding record", kind: "check" },
];

function configPaths() {
  return [...FIELDS.map((f) => f.path), ...SUB_STEPS.map((s) => `steps_enabled.${s.name}`)];
}

/** The completed sub-steps that read `path` (it may no longer change when there is one). */
export function lockedBy(job, path) {
  const done = completedNames(job);
  return readersOf(path).filter((n) => done.includes(n));
}

function currentValue(config, path) {
  if (!config) return null;
  const [group, key] = path.split(".");
  if (group === "steps_enabled") return config.stepsEnabled[key] !== false;
  if (path === "account.password") return "";
  const section = { account: config.account, menu: config.menu, onboarding: config.onboarding }[group];
  return section ? section[key] : null;
}

function fieldId(path) {
  return `fix-${path.replaceAll(".", "-")}`;
}

function fieldControl(field, value, suggested) {
  const id = fieldId(field.path);
  const code = h("code", { class: "field-path" }, field.path);
  const mark = suggested ? h("span", { class: "tag tag--suggested" }, "the failed sub-step reads this") : null;
  if (field.kind === "check") {
    return h("div", { class: `check${suggested ? " is-suggested" : ""}` }, h("input", { type: "checkbox", id, name: field.path, checked: Boolean(value), dataset: { path: field.path } }), h("label", { for: id }, `${field.label} `, code, " ", mark));
  }
  return h(
    "div",
    { class: `field${suggested ? " is-suggested" : ""}` },
    h("label", { for: id }, `${field.label} `, code, " ", mark),
    h("input", { type: field.kind, id, name: field.path, value: value || "", autocomplete: field.kind === "password" ? "new-password" : "off", dataset: { path: field.path }, placeholder: field.kind === "password" ? "leave empty to keep the current one" : "" }),
  );
}

/**
 * The form: only the fields no completed sub-step has read. `suggested`: config paths the
 * advice names. `onSubmit(body)` sends a PATCH body of the changed fields only.
 */
export function fixConfigForm(job, { suggested = [], onSubmit, onCancel, message }) {
  const editable = FIELDS.filter((f) => !lockedBy(job, f.path).length);
  const locked = configPaths()
    .map((path) => ({ path, by: lockedBy(job, path) }))
    .filter((x) => x.by.length);
  const switches = SUB_STEPS.filter((s) => !lockedBy(job, `steps_enabled.${s.name}`).length);
  const ordered = [...editable.filter((f) => suggested.includes(f.path)), ...editable.filter((f) => !suggested.includes(f.path))];

  const form = h(
    "form",
    {
      class: "action-form",
      id: "fix-config-form",
      "aria-labelledby": "fix-config-heading",
      novalidate: true,
      onsubmit: (event) => {
        event.preventDefault();
        const body = changedBody(job, form);
        if (!body) {
          message.show("info", "Nothing changed: edit a field first.");
          return;
        }
        onSubmit(body);
      },
    },
    h("h3", { id: "fix-config-heading" }, "Fix configuration"),
    h("p", { class: "hint" }, "Only fields that no completed sub-step has read can change. Save, then Resume Step 6."),
    h("div", { class: "fix-fields" }, ordered.map((f) => fieldControl(f, currentValue(job.config, f.path), suggested.includes(f.path)))),
    switches.length
      ? h(
          "fieldset",
          { class: "group fix-switches" },
          h("legend", {}, "Sub-steps switched on (steps_enabled)"),
          PHASES.map((phase) => {
            const here = subStepsOf(phase).filter((s) => switches.includes(s));
            return here.length ? h("div", { class: "switch-phase" }, h("p", { class: "switch-phase-title" }, phaseLabel(phase)), here.map((s) => fieldControl({ path: `steps_enabled.${s.name}`, label: s.name, kind: "check" }, currentValue(job.config, `steps_enabled.${s.name}`), false))) : null;
          }),
        )
      : null,
    locked.length
      ? h("details", { class: "locked-fields", id: "fix-locked" }, h("summary", {}, `${locked.length} fields are locked (already read by completed sub-steps)`), h("ul", {}, locked.map((x) => h("li", {}, h("code", {}, x.path), ` — read by ${x.by.join(", ")}`))))
      : null,
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "button button--primary", id: "fix-config-save" }, "Save configuration"), h("button", { type: "button", class: "button button--quiet", onclick: onCancel }, "Close")),
    message.el,
  );
  return form;
}

function changedBody(job, form) {
  const body = {};
  let changed = false;
  for (const input of form.querySelectorAll("input[data-path]")) {
    const path = input.dataset.path;
    const value = input.type === "checkbox" ? input.checked : input.value.trim();
    if (path === "account.password") {
      if (!input.value) continue;
    } else if (value === currentValue(job.config, path) || (value === "" && currentValue(job.config, path) === null)) {
      continue;
    }
    const [group, key] = path.split(".");
    body[group] = body[group] || {};
    body[group][key] = path === "account.password" ? input.value : value === "" ? null : value;
    changed = true;
  }
  return changed ? body : null;
}

// ---------------------------------------------------------------- Re-run…

export function rerunForm(job, { onSubmit, onCancel, message }) {
  const statuses = subStatuses(job);
  const choices = rerunnable(job);
  const closureOut = h("div", { id: "rerun-closure", class: "closure", "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "button button--primary", id: "rerun-submit", disabled: true }, "Re-run selected");
  const chosen = () => [...form.querySelectorAll("input[name=rerun]:checked")].map((i) => i.value);

  function update() {
    const names = chosen();
    if (!names.length) {
      closureOut.replaceChildren(h("p", { class: "hint" }, "Choose one or more completed sub-steps."));
      submit.disabled = true;
      return;
    }
    const closure = rerunClosure(names);
    const also = closure.filter((n) => !names.includes(n));
    const refused = closure.filter((n) => !isRerunnable(n) && (statuses.get(n) || {}).status === "completed");
    closureOut.replaceChildren(
      h("p", {}, h("strong", {}, `Will re-run ${closure.length}: `), closure.join(", ")),
      h("p", { id: "rerun-also" }, also.length ? `Also re-runs, because they depend on what you chose: ${also.join(", ")}.` : "Nothing else depends on it: only what you chose re-runs."),
      refused.length ? h("p", { class: "message message--error" }, `Cannot re-run: ${refused.join(", ")} would re-run too, and creates a platform object that must exist once.`) : null,
    );
    submit.disabled = refused.length > 0;
  }

  const form = h(
    "form",
    {
      class: "action-form",
      id: "rerun-form",
      "aria-labelledby": "rerun-heading",
      onsubmit: (event) => {
        event.preventDefault();
        const names = chosen();
        if (names.length) onSubmit(names);
      },
    },
    h("h3", { id: "rerun-heading" }, "Re-run sub-steps"),
    h("p", { class: "hint" }, "Runs completed sub-steps again (their platform calls take effect once more), with every sub-step that depends on them."),
    h(
      "fieldset",
      { class: "group" },
      h("legend", {}, "Completed, re-runnable sub-steps"),
      choices.map((name) => {
        const deps = dependentsOf(name);
        return h("div", { class: "check" }, h("input", { type: "checkbox", id: `rerun-${name}`, name: "rerun", value: name, onchange: update }), h("label", { for: `rerun-${name}` }, h("span", { class: "substep-name" }, name), ` · ${subStepLabel(name)}`, deps.length ? h("span", { class: "hint block" }, `needed by ${deps.join(", ")}`) : null));
      }),
    ),
    closureOut,
    h("div", { class: "form-actions" }, submit, h("button", { type: "button", class: "button button--quiet", onclick: onCancel }, "Close")),
    message.el,
  );
  update();
  return form;
}

// ---------------------------------------------------------------- Skip…

export function skipForm(job, { onSubmit, onCancel, message }) {
  const choices = skippable(job);
  const reason = h("textarea", { id: "skip-reason", name: "reason", rows: 2, maxlength: 500, required: true, "aria-describedby": "skip-reason-hint" });
  const form = h(
    "form",
    {
      class: "action-form",
      id: "skip-form",
      "aria-labelledby": "skip-heading",
      novalidate: true,
      onsubmit: (event) => {
        event.preventDefault();
        const picked = form.querySelector("input[name=skip]:checked");
        if (!picked) return;
        if (!reason.value.trim()) {
          message.show("error", "Give a reason: it is kept in the audit trail.");
          reason.focus();
          return;
        }
        onSubmit(picked.value, reason.value.trim());
      },
    },
    h("h3", { id: "skip-heading" }, "Skip a sub-step"),
    h("p", { class: "hint" }, "Accepts a failed (or dependency-skipped) non-blocking sub-step as skipped, for good: resume will not run it again."),
    h(
      "fieldset",
      { class: "group" },
      h("legend", {}, "Sub-step to skip"),
      choices.map((sub, i) =>
        h(
          "div",
          { class: "check" },
          h("input", { type: "radio", id: `skip-${sub.name}`, name: "skip", value: sub.name, checked: i === 0 }),
          h("label", { for: `skip-${sub.name}` }, h("span", { class: "substep-name" }, sub.name), ` · ${subStepLabel(sub.name)} (${statusText(sub.status)}${sub.skipReason ? `: ${sub.skipReason.replaceAll("_", " ")}` : ""})`),
        ),
      ),
    ),
    h("div", { class: "field" }, h("label", { for: "skip-reason" }, "Reason for skipping"), reason, h("p", { class: "hint", id: "skip-reason-hint" }, "Required; up to 500 characters; recorded with your name.")),
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "button button--primary", id: "skip-submit" }, "Skip sub-step"), h("button", { type: "button", class: "button button--quiet", onclick: onCancel }, "Close")),
    message.el,
  );
  return form;
}

export { configFieldsOf };
