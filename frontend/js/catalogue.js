// Helpers over the six steps and the Step 6 sub-step catalogue. The data itself is generated
// from the Python declarations (catalogue.gen.js, `make catalogue`): nothing is copied here.
import { CATALOGUE } from "./catalogue.gen.js";

const BY_NAME = new Map(CATALOGUE.sub_steps.map((s) => [s.name, s]));
const PHASE_BY_NAME = new Map(CATALOGUE.phases.map((p) => [p.phase, p]));

/** The phase names in order: ["phase1", …, "phase4"]. */
export const PHASES = CATALOGUE.phases.map((p) => p.phase);

/** Every sub-step, in catalogue order: {name, phase, label, blocking, depends_on, runs_if, …}. */
export const SUB_STEPS = CATALOGUE.sub_steps;

export function stepName(n) {
  const found = CATALOGUE.steps.find((s) => s.step === n);
  return found ? found.name : `Step ${n}`;
}

/** The catalogue entry of a sub-step, or null for a name the catalogue does not know. */
export function subStep(name) {
  return BY_NAME.get(name) || null;
}

export function subStepsOf(phase) {
  return SUB_STEPS.filter((s) => s.phase === phase);
}

/** The names of a phase's sub-steps, in catalogue order. */
export function subStepNames(phase) {
  return subStepsOf(phase).map((s) => s.name);
}

export function phaseTitle(phase) {
  const found = PHASE_BY_NAME.get(phase);
  return found ? found.title : phase;
}

/** "phase2" -> 2 (null for anything else). */
export function phaseNumber(phase) {
  const found = PHASE_BY_NAME.get(phase);
  return found ? found.number : null;
}

/** "phase2" -> "Phase 2" ("" for anything else). */
export function phaseLabel(phase) {
  const n = phaseNumber(phase);
  return n ? `Phase ${n}` : "";
}
