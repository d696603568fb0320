// oidc-client-ts 3.5.0 set up as its README does, the user kept in localStorage, refreshed
// with `signinSilent()`, which spends the stored refresh token. With `?lock=web` the
// refresh runs inside a Web Lock, the fix its issue #430 proposes for tabs refreshing at once.
//
// With `?dpop=on` (part dpop): `dpop: { store: new IndexedDbDPoPStore() }` as its docs set it
// up, and the API called with `Authorization: DPoP` and a proof from `dpopProof()`.
//
// automaticSilentRenew is off: its timer would refresh each tab on its own; the bench
// makes every tab refresh at one moment itself, and counts what that costs.

import { RESOURCE, dpopOn, pageAddress, settings, startOidcPage } from "../shared/oidc-page.js";

const { IndexedDbDPoPStore, UserManager, WebStorageStateStore } = window.oidc;
const { issuer, clientId, scope } = settings();
const locked = new URLSearchParams(location.search).get("lock") === "web";

const manager = new UserManager({
  authority: issuer,
  client_id: clientId,
  redirect_uri: pageAddress(),
  scope,
  userStore: new WebStorageStateStore({ store: window.localStorage }),
  automaticSilentRenew: false,
  ...(dpopOn() && { dpop: { store: new IndexedDbDPoPStore() } }),
});

/** The API request with DPoP: the user's token as a DPoP token, a proof for this request. */
async function fetchWithProof() {
  const user = await manager.getUser();
  const url = new URL(RESOURCE, location.href).href;
  const proof = await manager.dpopProof(url, user, "GET");
  return fetch(RESOURCE, {
    headers: { Authorization: `DPoP ${user.access_token}`, DPoP: proof },
    cache: "no-store",
  });
}

const signinSilent = () => manager.signinSilent();

startOidcPage({
  signIn: () => manager.signinRedirect(),
  finishSignIn: () => manager.signinRedirectCallback(),
  signedIn: async () => Boolean(await manager.getUser()),
  accessToken: async () => (await manager.getUser())?.access_token,
  ...(dpopOn() && { fetchResource: fetchWithProof }),
  storedAccessToken: async () => (await manager.getUser())?.access_token ?? null,
  refreshToken: async () => (await manager.getUser())?.refresh_token ?? null,
  refresh: locked ? () => navigator.locks.request("oidc-refresh", signinSilent) : signinSilent,
  breakToken: async () => {
    const user = await manager.getUser();
    user.access_token = "sdf";
    await manager.storeUser(user);
  },
});
