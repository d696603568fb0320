// auth0-spa-js 2.27.0 with refresh tokens, its cache in localStorage. It names its
// endpoints itself (`/authorize`, `/oauth/token`) and wants the issuer `domain` + "/":
// the bench's provider is started that way (tests/oidc/provider.mjs --auth0-routes).
// A 401 refreshes with `getTokenSilently({ cacheMode: "off" })`, which takes a Web Lock.

import { createAuth0Client } from "/bench/vendor/auth0-spa-js.js";

import { pageAddress, settings, startOidcPage } from "../shared/oidc-page.js";

const { issuer, clientId, scope } = settings();
const CACHE_PREFIX = "@@auth0spajs@@::";

const auth0 = await createAuth0Client({
  domain: issuer.replace(/\/$/, ""),
  clientId,
  useRefreshTokens: true,
  cacheLocation: "localstorage",
  authorizationParams: { redirect_uri: pageAddress(), scope },
});

/** The cache entry holding the tokens (not the user's), or undefined. */
function cacheEntry() {
  const key = Object.keys(localStorage).find(
    (name) => name.startsWith(CACHE_PREFIX) && !name.endsWith("@@user@@"),
  );
  return key && { key, entry: JSON.parse(localStorage.getItem(key)) };
}

startOidcPage({
  signIn: () => auth0.loginWithRedirect(),
  finishSignIn: () => auth0.handleRedirectCallback(),
  signedIn: () => auth0.isAuthenticated(),
  accessToken: () => auth0.getTokenSilently(),
  // From its cache as stored: getTokenSilently() would refresh a token about to expire.
  storedAccessToken: async () => cacheEntry()?.entry.body.access_token ?? null,
  refreshToken: async () => cacheEntry()?.entry.body.refresh_token ?? null,
  refresh: () => auth0.getTokenSilently({ cacheMode: "off" }),
  breakToken: async () => {
    const { key, entry } = cacheEntry();
    entry.body.access_token = "sdf";
    localStorage.setItem(key, JSON.stringify(entry));
  },
});
