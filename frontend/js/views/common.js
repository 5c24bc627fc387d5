// Pieces shared by the views.
import { config } from "../../config.js";
import { chip, formatTime, h, makePoller, replaceChildren, statusText } from "../ui.js";

export function poller(tick) {
  return makePoller(tick, config.polling || {});
}

/** "Updated 14:03:22 · refreshing while a run is active" + a Refresh button. */
export function refreshBar(onRefresh) {
  const text = h("span", { class: "refresh-text" }, "");
  const button = h("button", { type: "button", class: "button button--quiet", onclick: onRefresh }, "Refresh");
  const el = h("div", { class: "refresh-bar" }, text, button);
  return {
    el,
    button,
    set(updatedAt, running, error = "") {
      const parts = [`Updated ${formatTime(updatedAt.toISOString())}`];
      if (running) parts.push("refreshing automatically while a run is active");
      if (error) parts.push(error);
      text.textContent = parts.join(" · ");
    },
  };
}

const COUNT_ORDER = ["in_progress", "action_required", "failed", "completed_with_errors", "completed", "pending"];

/** Job counts by status as a list of chips: "2 completed", "1 failed", … */
export function countChips(counts) {
  const entries = Object.entries(counts || {}).filter(([, n]) => Number(n) > 0);
  entries.sort(([a], [b]) => (COUNT_ORDER.indexOf(a) + 99) % 99 - (COUNT_ORDER.indexOf(b) + 99) % 99);
  if (!entries.length) return h("span", { class: "muted" }, "no jobs");
  return h(
    "ul",
    { class: "counts" },
    entries.map(([status, n]) => h("li", {}, chip(status, { count: n }))),
  );
}

export function loadingError(main, title, error, retry) {
  replaceChildren(
    main,
    h("h1", {}, title),
    h("div", { class: "message message--error", role: "alert" }, h("span", { class: "message-icon", "aria-hidden": "true" }, "✕"), h("span", {}, error.message || String(error))),
    h("p", {}, h("button", { type: "button", class: "button", onclick: retry }, "Try again"), " ", h("a", { href: "#/batches" }, "Back to all batches")),
  );
}

/**
 * A view's read of its resource: on the first load a failure replaces the view (with "Try
 * again"); later, the refresh bar says it. An aborted read (the view was left) is rethrown.
 */
export async function readForView(read, { title, main, bar, state, signal }) {
  try {
    return await read();
  } catch (error) {
    if (error.name === "AbortError" || signal.aborted) throw error;
    if (state.firstLoad) loadingError(main, title, error, () => location.reload());
    else bar.set(new Date(), true, `could not refresh: ${error.message}`);
    throw error;
  }
}

export { statusText };
