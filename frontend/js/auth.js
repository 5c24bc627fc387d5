// Signing in.
//
// Local mode (no Cognito settings in config.js): `?org=<org_id>` in the address signs in as that
// org and is remembered in localStorage; otherwise a small form asks for the org id. Requests
// carry `Authorization: Bearer local:<org_id>` (or `Bearer local:<org_id>:<user>` when a user name
// is given: `?user=<name>` or the form's optional field), which the local server maps to the
// `custom:org_id` claim and the actor of what is done.
//
// Deployed mode (config.cognito.domain and clientId set): the Cognito Hosted UI with the
// OAuth 2.0 authorization code flow and PKCE, using plain redirects and fetch (no SDK). The ID
// token (which carries `custom:org_id`) is kept in sessionStorage until it expires and sent as
// `Authorization: <id token>`, which is what an API Gateway Cognito authorizer expects.
import { config } from "../config.js";

const ORG_KEY = "pumpd.ops.org";
const USER_KEY = "pumpd.ops.user";
const TOKEN_KEY = "pumpd.ops.idToken";
const PKCE_KEY = "pumpd.ops.pkce";

export function cognitoEnabled() {
  const c = config.cognito || {};
  return Boolean(c.domain && c.clientId);
}

// ------------------------------------------------------------------ local mode

export function localOrg() {
  try {
    return localStorage.getItem(ORG_KEY) || "";
  } catch {
    return "";
  }
}

export function localUser() {
  try {
    return localStorage.getItem(USER_KEY) || "";
  } catch {
    return "";
  }
}

/** Sign in locally as `org`, optionally naming the user (the actor of what they do). */
export function signInLocal(org, user = "") {
  const value = String(org || "").trim();
  if (!value) return false;
  localStorage.setItem(ORG_KEY, value);
  const who = String(user || "").trim();
  if (who) localStorage.setItem(USER_KEY, who);
  else localStorage.removeItem(USER_KEY);
  return true;
}

// ------------------------------------------------------------------ Cognito

function base64url(bytes) {
  let text = "";
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function randomString(size = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(size)));
}

function redirectUri() {
  return config.cognito.redirectUri || `${location.origin}${location.pathname}`;
}

function hostedUi(path) {
  const domain = config.cognito.domain.replace(/^https?:\/\//, "").replace(/\/$/, "");
  return `https://${domain}${path}`;
}

function decodeJwtPayload(token) {
  try {
    const part = token.split(".")[1].replaceAll("-", "+").replaceAll("_", "/");
    return JSON.parse(decodeURIComponent(escape(atob(part))));
  } catch {
    return null;
  }
}

function storedToken() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(TOKEN_KEY) || "null");
    if (saved && saved.idToken && saved.expiresAt > Date.now() + 30_000) return saved;
  } catch {
    /* fall through */
  }
  sessionStorage.removeItem(TOKEN_KEY);
  return null;
}

export async function startCognitoSignIn() {
  const verifier = randomString(48);
  const state = randomString(16);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, hash: location.hash }));
  const params = new URLSearchParams({
    response_type: "code",
    client_id: config.cognito.clientId,
    redirect_uri: redirectUri(),
    scope: (config.cognito.scopes || ["openid"]).join(" "),
    state,
    code_challenge_method: "S256",
    code_challenge: base64url(digest),
  });
  location.assign(`${hostedUi("/oauth2/authorize")}?${params}`);
}

async function finishCognitoSignIn(params) {
  const pending = JSON.parse(sessionStorage.getItem(PKCE_KEY) || "null");
  sessionStorage.removeItem(PKCE_KEY);
  if (!pending || pending.state !== params.get("state")) {
    throw new Error("The sign-in answer did not match this browser's request. Sign in again.");
  }
  const response = await fetch(hostedUi("/oauth2/token"), {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: config.cognito.clientId,
      code: params.get("code"),
      redirect_uri: redirectUri(),
      code_verifier: pending.verifier,
    }),
  });
  if (!response.ok) throw new Error(`Cognito refused the sign-in (HTTP ${response.status}).`);
  const tokens = await response.json();
  const claims = decodeJwtPayload(tokens.id_token) || {};
  sessionStorage.setItem(
    TOKEN_KEY,
    JSON.stringify({
      idToken: tokens.id_token,
      expiresAt: (claims.exp || 0) * 1000 || Date.now() + (tokens.expires_in || 3600) * 1000,
      org: claims["custom:org_id"] || "",
      user: claims.email || claims["cognito:username"] || "",
    }),
  );
  return pending.hash || "#/batches";
}

// ------------------------------------------------------------------ both modes

/**
 * Read sign-in parameters from the address (?org=… locally; ?code=…&state=… from Cognito),
 * store them and clean them out of the address. Returns {signedIn, error?}.
 */
export async function initAuth() {
  const params = new URLSearchParams(location.search);
  const clean = (hash) => history.replaceState(null, "", `${location.pathname}${hash ?? location.hash}`);
  if (cognitoEnabled()) {
    if (params.has("error")) {
      clean();
      return { signedIn: false, error: params.get("error_description") || params.get("error") };
    }
    if (params.has("code")) {
      try {
        const hash = await finishCognitoSignIn(params);
        clean(hash);
      } catch (error) {
        clean();
        return { signedIn: false, error: error.message };
      }
    }
    return { signedIn: storedToken() !== null };
  }
  if (params.has("org")) {
    signInLocal(params.get("org"), params.get("user") || "");
    clean();
  }
  return { signedIn: Boolean(localOrg()) };
}

export function session() {
  if (cognitoEnabled()) {
    const token = storedToken();
    return token ? { org: token.org, user: token.user } : null;
  }
  const org = localOrg();
  return org ? { org, user: localUser() } : null;
}

export function authorizationHeader() {
  if (cognitoEnabled()) {
    const token = storedToken();
    return token ? token.idToken : null;
  }
  const org = localOrg();
  if (!org) return null;
  const user = localUser();
  return user ? `Bearer local:${org}:${user}` : `Bearer local:${org}`;
}

/** Forget the stored sign-in without leaving the page (after a 401). */
export function forgetSession() {
  localStorage.removeItem(ORG_KEY);
  localStorage.removeItem(USER_KEY);
  sessionStorage.removeItem(TOKEN_KEY);
}

export function signOut() {
  localStorage.removeItem(ORG_KEY);
  localStorage.removeItem(USER_KEY);
  sessionStorage.removeItem(TOKEN_KEY);
  if (cognitoEnabled()) {
    const params = new URLSearchParams({
      client_id: config.cognito.clientId,
      logout_uri: redirectUri(),
    });
    location.assign(`${hostedUi("/logout")}?${params}`);
    return;
  }
  location.hash = "#/batches";
  location.reload();
}
