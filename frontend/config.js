// Deployment settings of the operations page. This file is the only one to change when the
// page is deployed as static files (e.g. S3 + CloudFront); nothing here is secret.
//
// Locally (`make serve`) leave everything empty: the page calls the API on its own origin and
// signs in with `?org=<org_id>` (sent as `Authorization: Bearer local:<org_id>`).
//
// Deployed: set `apiBaseUrl` to the API Gateway stage URL (the stack output) and fill
// `cognito` from the stack's user pool: with `cognito.domain` and `cognito.clientId` set, the
// page signs in through the Cognito Hosted UI (authorization code flow with PKCE, public app
// client without a secret) and sends the ID token as `Authorization: <id token>`.
export const config = {
  // e.g. "https://abc123.execute-api.eu-west-1.amazonaws.com/Prod" ("" = same origin)
  apiBaseUrl: "",
  cognito: {
    // e.g. "eu-west-1_AbCdEf123" (informational; the Hosted UI needs domain + clientId)
    userPoolId: "",
    // the app client id (no client secret: a browser cannot keep one)
    clientId: "",
    // the Hosted UI domain, e.g. "pumpd-ops.auth.eu-west-1.amazoncognito.com"
    domain: "",
    // must be listed in the app client's callback and sign-out URLs; "" = this page's URL
    redirectUri: "",
    scopes: ["openid", "email", "profile"],
  },
  // Polling while a run is active: first delay, growth factor, longest delay (milliseconds).
  polling: { initialMs: 1000, factor: 1.5, maxMs: 10000 },
};
