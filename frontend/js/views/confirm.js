// A confirmation before a bulk action: a modal <dialog> that says what will happen, with the
// operation's concurrency bound editable. Resolves to {maxConcurrency} or null (cancelled).
import { h } from "../ui.js";

export const DEFAULT_CONCURRENCY = 25;

/** "Resume Step 6 for 37 jobs, at most 25 at a time" */
export function operationSentence(verb, count, maxConcurrency) {
  return `${verb} for ${count} job${count === 1 ? "" : "s"}, at most ${maxConcurrency} at a time`;
}

/**
 * confirmOperation({title, verb, count, detail, confirmLabel}) -> Promise<{maxConcurrency} | null>
 * The sentence follows the concurrency field as it is edited; Escape or Cancel answers null.
 */
export function confirmOperation({ title, verb, count, detail = "", confirmLabel = "Start" }) {
  return new Promise((resolve) => {
    const sentence = h("p", { id: "confirm-sentence", class: "confirm-sentence" }, operationSentence(verb, count, DEFAULT_CONCURRENCY));
    const concurrency = h("input", { type: "number", id: "confirm-concurrency", name: "max_concurrency", min: "1", max: "1000", value: String(DEFAULT_CONCURRENCY), required: true, "aria-describedby": "confirm-concurrency-hint" });
    const read = () => Math.max(1, Math.min(1000, Number.parseInt(concurrency.value, 10) || DEFAULT_CONCURRENCY));
    concurrency.addEventListener("input", () => {
      sentence.textContent = operationSentence(verb, count, read());
    });
    let answer = null;
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-labelledby": "confirm-title", "aria-describedby": "confirm-sentence" },
      h(
        "form",
        {
          method: "dialog",
          onsubmit: (event) => {
            if (event.submitter && event.submitter.value === "confirm") {
              if (!concurrency.checkValidity()) {
                event.preventDefault();
                concurrency.reportValidity();
                return;
              }
              answer = { maxConcurrency: read() };
            }
          },
        },
        h("h2", { id: "confirm-title" }, title),
        sentence,
        detail ? h("p", { class: "hint" }, detail) : null,
        h(
          "div",
          { class: "field field--narrow" },
          h("label", { for: "confirm-concurrency" }, "At most this many at a time"),
          concurrency,
          h("p", { class: "hint", id: "confirm-concurrency-hint" }, "1 to 1,000. A lower number spares a platform that is recovering."),
        ),
        h(
          "div",
          { class: "form-actions" },
          h("button", { type: "submit", value: "confirm", class: "button button--primary", id: "confirm-start" }, confirmLabel),
          " ",
          h("button", { type: "submit", value: "cancel", class: "button", formnovalidate: true }, "Cancel"),
        ),
      ),
    );
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}
