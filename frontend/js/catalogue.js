// The six onboarding steps and the Step 6 sub-step catalogue, mirrored from
// src/state/models.py (STEP_NAMES) and src/domain/catalogue.py. The page prefers what the API
// returns and uses these only for names, order and the Step 5 switches.

export const STEP_NAMES = {
  1: "Menu & Branding Extraction",
  2: "Contact Details Search",
  3: "Company Selection",
  4: "Company Details Extraction",
  5: "Yolo Mode Configuration",
  6: "Pumpd Account Setup",
};

export const PHASES = ["phase1", "phase2", "phase3", "phase4"];

export const PHASE_TITLES = {
  phase1: "Account, code and uploads",
  phase2: "Registration and configuration",
  phase3: "Option sets",
  phase4: "Item tags",
};

export const SUB_STEPS = [
  { name: "cloudwaitressAccount", phase: "phase1", blocking: true, dependsOn: [], label: "Platform account" },
  { name: "codeGeneration", phase: "phase1", blocking: false, dependsOn: [], label: "Website code generation" },
  { name: "createOnboardingUser", phase: "phase1", blocking: false, dependsOn: [], label: "Onboarding user" },
  { name: "uploadImages", phase: "phase1", blocking: false, dependsOn: [], label: "Menu image upload" },
  { name: "restaurantRegistration", phase: "phase2", blocking: true, dependsOn: ["cloudwaitressAccount"], label: "Restaurant registration" },
  { name: "websiteConfig", phase: "phase2", blocking: false, dependsOn: ["restaurantRegistration", "codeGeneration"], label: "Website configuration" },
  { name: "servicesConfig", phase: "phase2", blocking: false, dependsOn: ["restaurantRegistration"], label: "Services configuration" },
  { name: "paymentConfig", phase: "phase2", blocking: false, dependsOn: ["restaurantRegistration"], label: "Payment configuration" },
  { name: "menuImport", phase: "phase2", blocking: false, dependsOn: ["restaurantRegistration"], label: "Menu import" },
  { name: "syncOnboardingUser", phase: "phase2", blocking: false, dependsOn: ["createOnboardingUser"], label: "Onboarding record sync" },
  { name: "optionSets", phase: "phase3", blocking: true, dependsOn: ["menuImport"], label: "Option sets" },
  { name: "itemTags", phase: "phase4", blocking: true, dependsOn: ["menuImport"], label: "Item tags" },
];

export const SUB_STEP_BY_NAME = Object.fromEntries(SUB_STEPS.map((s) => [s.name, s]));

export function subStepsOf(phase) {
  return SUB_STEPS.filter((s) => s.phase === phase);
}

/** "phase2" -> 2 (null for anything else). */
export function phaseNumber(phase) {
  const m = /^phase([1-4])$/.exec(phase || "");
  return m ? Number(m[1]) : null;
}

export function phaseLabel(phase) {
  const n = phaseNumber(phase);
  return n ? `Phase ${n}` : "";
}
