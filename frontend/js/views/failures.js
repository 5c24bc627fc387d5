// The Failures panel: a batch's (or the org's) failures grouped by cause (GET /failures), each
// group with "Show" (filter the job list to it) and "Resume these N" (one bulk operation).
import { phaseLabel, subStepLabel } from "../catalogue.js";
import { h } from "../ui.js";

/** A group's cause in words: "email_taken (platform: email_taken)". */
export function causeText(group) {
  const code = group.errorCode || "unknown cause";
  return group.platformCode && group.platformCode !== group.errorCode ? `${code} (platform: ${group.platformCode})` : code;
}

/** "Restaurant registration (restaurantRegistration)" or the bare name for an unknown one. */
export function subStepText(name) {
  if (!name) return "–";
  const label = subStepLabel(name);
  return label ? `${label} (${name})` : name;
}

function groupKey(group) {
  return [group.step, group.phase, group.subStep, group.errorCode, group.platformCode].join("|");
}

/**
 * The panel's table. `onShow(group)` and `onResume(group)` are absent on the org-wide panel
 * (a bulk operation needs a batch). Resume is offered only when some jobs can resume.
 */
export function failuresTable(groups, { onShow = null, onResume = null, busy = false } = {}) {
  if (!groups.length) return h("p", { class: "empty", id: "failures-empty" }, "No failures: nothing is waiting for a fix.");
  const actions = Boolean(onShow || onResume);
  return h(
    "table",
    { class: "table failures-table" },
    h("caption", { class: "visually-hidden" }, "Failures grouped by cause"),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["Where", "Cause", "Example", "Jobs", "Can resume"].map((t) => h("th", { scope: "col" }, t)),
        actions ? h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")) : null,
      ),
    ),
    h(
      "tbody",
      {},
      groups.map((g) =>
        h(
          "tr",
          { class: "failure-group", dataset: { key: groupKey(g), subStep: g.subStep || "", errorCode: g.errorCode || "" } },
          h("th", { scope: "row", "data-label": "Where" }, g.step ? `Step ${g.step}` : [g.phase ? `${phaseLabel(g.phase)} · ` : "", subStepText(g.subStep)]),
          h("td", { "data-label": "Cause" }, h("code", {}, causeText(g))),
          h("td", { "data-label": "Example", class: "details-cell" }, g.sampleError || "–"),
          h("td", { "data-label": "Jobs", class: "num" }, String(g.count)),
          h("td", { "data-label": "Can resume", class: "num" }, String(g.resumableCount)),
          actions
            ? h(
                "td",
                { class: "group-actions" },
                onShow ? h("button", { type: "button", class: "button button--quiet", onclick: () => onShow(g), "aria-label": `Show the ${g.count} jobs that failed at ${g.step ? `Step ${g.step}` : g.subStep} with ${g.errorCode}` }, "Show") : null,
                onResume
                  ? h(
                      "button",
                      { type: "button", class: "button button--quiet", disabled: busy || !g.resumableCount, onclick: () => onResume(g) },
                      `Resume these ${g.resumableCount}`,
                    )
                  : null,
              )
            : null,
        ),
      ),
    ),
  );
}
