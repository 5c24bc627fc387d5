// Generated from the sub-step declarations in src/domain/substeps by `make catalogue`: do not edit.
export const CATALOGUE = {
  "steps": [
    {"step": 1, "name": "Menu & Branding Extraction"},
    {"step": 2, "name": "Contact Details Search"},
    {"step": 3, "name": "Company Selection"},
    {"step": 4, "name": "Company Details Extraction"},
    {"step": 5, "name": "Yolo Mode Configuration"},
    {"step": 6, "name": "Pumpd Account Setup"}
  ],
  "phases": [
    {"phase": "phase1", "number": 1, "title": "Account, code and uploads"},
    {"phase": "phase2", "number": 2, "title": "Registration and configuration"},
    {"phase": "phase3", "number": 3, "title": "Option sets"},
    {"phase": "phase4", "number": 4, "title": "Item tags"}
  ],
  "sub_steps": [
    {"name": "cloudwaitressAccount", "phase": "phase1", "label": "Platform account", "blocking": true, "depends_on": [], "runs_if": [], "config_fields": ["account.registerNewUser", "account.email", "account.password"], "rerunnable": false},
    {"name": "codeGeneration", "phase": "phase1", "label": "Website code generation", "blocking": false, "depends_on": [], "runs_if": [], "config_fields": [], "rerunnable": true},
    {"name": "createOnboardingUser", "phase": "phase1", "label": "Onboarding user", "blocking": false, "depends_on": [], "runs_if": ["onboarding.createOnboardingUser"], "config_fields": ["onboarding.createOnboardingUser", "account.email"], "rerunnable": false},
    {"name": "uploadImages", "phase": "phase1", "label": "Menu image upload", "blocking": false, "depends_on": [], "runs_if": ["menu.selectedMenuId", "menu.uploadImages"], "config_fields": ["menu.selectedMenuId", "menu.uploadImages"], "rerunnable": true},
    {"name": "restaurantRegistration", "phase": "phase2", "label": "Restaurant registration", "blocking": true, "depends_on": ["cloudwaitressAccount"], "runs_if": [], "config_fields": [], "rerunnable": false},
    {"name": "websiteConfig", "phase": "phase2", "label": "Website configuration", "blocking": false, "depends_on": ["restaurantRegistration", "codeGeneration"], "runs_if": [], "config_fields": [], "rerunnable": true},
    {"name": "servicesConfig", "phase": "phase2", "label": "Services configuration", "blocking": false, "depends_on": ["restaurantRegistration"], "runs_if": [], "config_fields": [], "rerunnable": true},
    {"name": "paymentConfig", "phase": "phase2", "label": "Payment configuration", "blocking": false, "depends_on": ["restaurantRegistration"], "runs_if": [], "config_fields": [], "rerunnable": true},
    {"name": "menuImport", "phase": "phase2", "label": "Menu import", "blocking": false, "depends_on": ["restaurantRegistration"], "runs_if": ["menu.selectedMenuId"], "config_fields": ["menu.selectedMenuId"], "rerunnable": true},
    {"name": "syncOnboardingUser", "phase": "phase2", "label": "Onboarding record sync", "blocking": false, "depends_on": ["createOnboardingUser"], "runs_if": ["onboarding.syncOnboardingRecord"], "config_fields": ["onboarding.syncOnboardingRecord"], "rerunnable": true},
    {"name": "optionSets", "phase": "phase3", "label": "Option sets", "blocking": true, "depends_on": ["menuImport"], "runs_if": ["menu.addOptionSets"], "config_fields": ["menu.addOptionSets"], "rerunnable": true},
    {"name": "itemTags", "phase": "phase4", "label": "Item tags", "blocking": true, "depends_on": ["menuImport"], "runs_if": ["menu.addItemTags"], "config_fields": ["menu.addItemTags"], "rerunnable": true}
  ]
};
