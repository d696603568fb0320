// A real OpenID Connect provider for the tests and `make oidc`: panva's certified
// oidc-provider (pinned in package.json), configured as issue 22 says a browser app's
// provider is: one public web client, PKCE, rotating refresh tokens whose reuse revokes the
// grant, short-lived JWT access tokens for the API, revocation, RP-initiated logout, CORS
// for the page's origin only. Never for production: devInteractions signs anyone in.
//
//   node tests/oidc/provider.mjs --port P --page-origin http://127.0.0.1:Q
//       [--client-id ID] [--redirect-uri URI ...] [--post-logout-redirect-uri URI ...]
//       [--api-audience AUD] [--access-token-ttl SECONDS] [--issuer URL] [--auth0-routes]
//       [--dpop]
//
// --issuer names the provider as pages reach it (a delay line in front of it, `make bench`),
// instead of http://127.0.0.1:P. --auth0-routes serves authorization at /authorize and
// the token endpoint at /oauth/token, where auth0-spa-js sends them (it also wants an
// issuer that ends in "/").
//
// --dpop: DPoP (RFC 9449) with server nonces. oidc-provider 9 takes DPoP proofs by default
// (features.dPoP is on) and binds the tokens of a request that carries one; with --dpop
// it also issues DPoP-Nonce (exposed to the page by CORS) and requires a proof with a
// current nonce on every DPoP request, so that a client's nonce retry is exercised. Its
// default does not rotate a DPoP-bound refresh token until 70 % of its life; this
// provider's rotateRefreshToken: true rotates it on every refresh all the same.
//
// Prints one JSON line on stdout once it listens on 127.0.0.1: {"issuer": ...}. Writes the
// provider's own events to stderr, one JSON line each ({"event": ..., ...}): the token
// endpoint answers every refusal with the same "invalid_grant", and these say why.
// Why each setting: docs/oidc-provider.md.

import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { parseArgs } from "node:util";

import Provider, { errors } from "oidc-provider";

// oidc-provider prints its notices with console.info, on stdout: keep stdout for the one line.
console.info = (...parts) => console.error(...parts);

// The devInteractions pages and the default HTML pages import a web font from Google; a page
// under test makes no request to another origin, so the import is cut from every HTML answer.
const FONT_IMPORT = /@import url\(https:\/\/fonts\.googleapis\.com\/[^)]*\);?/g;

const EVENTS = [
  "authorization.error",
  "authorization.success",
  "end_session.success",
  "grant.error",
  "grant.revoked",
  "grant.success",
  "refresh_token.consumed",
  "refresh_token.destroyed",
  "refresh_token.saved",
  "revocation.error",
  "server_error",
];

function readOptions() {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      "page-origin": { type: "string" },
      "client-id": { type: "string", default: "refresh-gate-demo" },
      "redirect-uri": { type: "string", multiple: true },
      "post-logout-redirect-uri": { type: "string", multiple: true },
      "api-audience": { type: "string", default: "urn:refresh-gate:api" },
      "access-token-ttl": { type: "string", default: "30" },
      issuer: { type: "string" },
      "auth0-routes": { type: "boolean", default: false },
      dpop: { type: "boolean", default: false },
    },
  });
  if (!values.port || !values["page-origin"]) {
    throw new Error("usage: provider.mjs --port P --page-origin http://127.0.0.1:Q [...]");
  }
  const pageOrigin = new URL(values["page-origin"]).origin;
  return {
    port: Number(values.port),
    pageOrigin,
    clientId: values["client-id"],
    redirectUris: values["redirect-uri"] ?? [`${pageOrigin}/oidc/callback`],
    postLogoutRedirectUris: values["post-logout-redirect-uri"] ?? [`${pageOrigin}/`],
    apiAudience: values["api-audience"],
    accessTokenTtl: Number(values["access-token-ttl"]),
    issuer: values.issuer ?? `http://127.0.0.1:${values.port}`,
    auth0Routes: values["auth0-routes"],
    dpop: values.dpop,
  };
}

/** A fresh RSA signing key for each start: nothing secret lives in the repository. */
function signingKey() {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = privateKey.export({ format: "jwk" });
  return { ...jwk, kid: randomBytes(8).toString("hex"), alg: "RS256", use: "sig" };
}

/** The logout confirmation, sent on by itself: the test (or the user) has asked to log out. */
async function logoutSource(ctx, form) {
  const yes = '<input type="hidden" name="logout" value="yes"/>';
  const confirmed = form.replace("</form>", `${yes}</form>`);
  ctx.body = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Signing out</title></head>
<body><main><h1>Signing out</h1>${confirmed}
<noscript><button type="submit" form="op.logoutForm">Sign out</button></noscript>
<script>document.getElementById("op.logoutForm").submit()</script></main></body></html>`;
}

/** DPoP as --dpop turns it on: nonces from a fresh secret, required on every DPoP request. */
function dpopWithNonces() {
  return { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true };
}

function configuration(options) {
  const { clientId, pageOrigin, apiAudience, accessTokenTtl } = options;
  const ourClient = (client) => client.clientId === clientId;
  return {
    ...(options.auth0Routes && { routes: { authorization: "/authorize", token: "/oauth/token" } }),
    clients: [
      {
        client_id: clientId,
        application_type: "web",
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        redirect_uris: options.redirectUris,
        post_logout_redirect_uris: options.postLogoutRedirectUris,
      },
    ],
    jwks: { keys: [signingKey()] },
    cookies: { keys: [randomBytes(32).toString("hex")] },
    // Any login name is an account; devInteractions ignores the password.
    async findAccount(ctx, sub) {
      return { accountId: sub, async claims() { return { sub }; } };
    },
    clientBasedCORS(ctx, origin, client) {
      return origin === pageOrigin && ourClient(client);
    },
    // By default a public client gets a refresh token only for offline_access, and that
    // scope only with prompt=consent.
    issueRefreshToken(ctx, client) {
      return ourClient(client) && client.grantTypeAllowed("refresh_token");
    },
    // Every refresh spends the token and issues a new one; a spent token presented again
    // revokes the whole grant (lib/actions/grants/refresh_token.js), with no grace.
    rotateRefreshToken: true,
    ttl: {
      AccessToken: accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: 60 * 60,
      Interaction: 60 * 60,
      Session: 24 * 60 * 60,
      Grant: 24 * 60 * 60,
      // A rotated token lives only as long as the one it replaced had left, as the default.
      RefreshToken(ctx, token) {
        return ctx?.oidc?.entities.RotatedRefreshToken?.remainingTTL ?? 24 * 60 * 60;
      },
    },
    features: {
      devInteractions: { enabled: true },
      ...(options.dpop ? { dPoP: dpopWithNonces() } : {}),
      revocation: {
        enabled: true,
        async allowedPolicy(ctx, client, token) {
          return token.clientId === client.clientId;
        },
      },
      rpInitiatedLogout: { enabled: true, logoutSource },
      resourceIndicators: {
        enabled: true,
        async defaultResource() {
          return apiAudience;
        },
        // Without it a token request with scope openid and no `resource` parameter gets an
        // opaque access token for userinfo (lib/helpers/resolve_resource.js).
        async useGrantedResource() {
          return true;
        },
        async getResourceServerInfo(ctx, resource) {
          if (resource !== apiAudience) {
            throw new errors.InvalidTarget();
          }
          return {
            scope: "api",
            audience: apiAudience,
            accessTokenFormat: "jwt",
            accessTokenTTL: accessTokenTtl,
            jwt: { sign: { alg: "RS256" } },
          };
        },
      },
    },
  };
}

/** A token's stored id, hashed: enough to match events to a token a test holds. */
function fingerprint(value) {
  return value ? createHash("sha256").update(value).digest("hex").slice(0, 16) : undefined;
}

function describe(event, args) {
  const [first, second] = args;
  switch (event) {
    case "grant.revoked":
      return { grantId: second };
    case "refresh_token.consumed":
    case "refresh_token.destroyed":
    case "refresh_token.saved":
      return { grantId: first.grantId, token: fingerprint(first.jti) };
    case "end_session.success":
    case "grant.success":
    case "authorization.success":
      return { grantId: first.oidc?.entities.Grant?.jti };
    default: {
      const refreshToken = first?.oidc?.entities.RefreshToken;
      return {
        error: second?.error ?? second?.message,
        description: second?.error_description,
        detail: second?.error_detail,
        grantId: refreshToken?.grantId,
        token: fingerprint(refreshToken?.jti),
      };
    }
  }
}

function logEvents(provider) {
  for (const event of EVENTS) {
    provider.on(event, (...args) => {
      process.stderr.write(`${JSON.stringify({ event, ...describe(event, args) })}\n`);
    });
  }
}

const options = readOptions();
const { issuer } = options;
const provider = new Provider(issuer, configuration(options));
logEvents(provider);
provider.use(async (ctx, next) => {
  await next();
  if (typeof ctx.body === "string" && ctx.response.is("html")) {
    ctx.body = ctx.body.replace(FONT_IMPORT, "");
  }
});
provider.listen(options.port, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});
