// auth0-spa-js 2.27.0 with refresh tokens, its cache in localStorage. It names its
// endpoints itself (`/authorize`, `/oauth/token`) and wants the issuer `domain` + "/":
// the bench's provider is started that way (tests/oidc/provider.mjs --auth0-routes).
// A 401 refreshes with `getTokenSilently({ cacheMode: "off" })`, which takes a Web Lock.
// With `?dpop=on` (part dpop): `useDpop: true`, and the API is called with the fetcher
// `createFetcher()` makes, whose `fetchWithAuth()` sends `Authorization: DPoP` and a proof
// (and answers a server's `use_dpop_nonce`), as its EXAMPLES.md shows.

import { createAuth0Client } from "/bench/vendor/auth0-spa-js.js";

import { RESOURCE, dpopOn, pageAddress, settings, startOidcPage } from "../shared/oidc-page.js";

const { issuer, clientId, scope } = settings();
const CACHE_PREFIX = "@@auth0spajs@@::";

const auth0 = await createAuth0Client({
  domain: issuer.replace(/\/$/, ""),
  clientId,
  useRefreshTokens: true,
  cacheLocation: "localstorage",
  useDpop: dpopOn(),
  authorizationParams: { redirect_uri: pageAddress(), scope },
});

// The token from its cache with its type (DPoP or Bearer), for the fetcher's header.
const fetcher = auth0.createFetcher({
  dpopNonceId: "api",
  getAccessToken: () => auth0.getTokenSilently({ detailedResponse: true }),
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
  ...(dpopOn() && {
    fetchResource: () => fetcher.fetchWithAuth(RESOURCE, { cache: "no-store" }),
  }),
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
