// The page contract of the OpenID Connect contestants, shared with the app's own page: a
// "Sign in" button that goes through the provider's pages, the resource loaded on arrival
// in #data, the "Send 3 requests" button and its result slots. Each contestant's main.js
// builds its client as that client's README does and hands this module what it needs.
//
// The provider's issuer and the client id come from `window.benchOidc`, which the bench
// puts into the page (an init script): the provider's port changes from run to run.

export const RESOURCE = "/api/resources";
const SLOTS = ["first", "second", "third"];

/** The provider and client every contestant signs in with. */
export const settings = () => window.benchOidc;

/** Whether the page runs its client with DPoP (`?dpop=on`, part dpop of the bench). */
export const dpopOn = () => new URLSearchParams(location.search).get("dpop") === "on";

/** This page's address without the provider's answer: where the provider sends it back. */
export function pageAddress() {
  const query = new URLSearchParams(location.search);
  const kept = ["lock", "dpop"].filter((name) => query.has(name));
  const variant = kept.map((name) => `${name}=${query.get(name)}`).join("&");
  return location.origin + location.pathname + (variant ? `?${variant}` : "");
}

const say = (text) => { document.getElementById("status").textContent = text; };

/**
 * Wire the page to `client`: { signIn(), finishSignIn(), signedIn(), accessToken(),
 * refresh(), breakToken(), storedAccessToken(), refreshToken() }, all async. The stored
 * tokens are what the bench reads: as they are, with no refresh on the way. A client
 * that sends the API request itself (with a DPoP proof) also has `fetchResource()`, a
 * promise of the Response; the others are sent here with `Authorization: Bearer`.
 *
 * A 401 refreshes the way the client does, once a tab for the 401s of one click (as the
 * issue's trials did: the bench counts the tabs' race, not a page racing itself), then
 * the request is sent again with the new token. A refresh that fails is a lost session.
 */
export async function startOidcPage(client) {
  window.benchPending = 0; // requests not yet settled: the harness waits for zero
  let refreshing;
  const send = async () =>
    client.fetchResource
      ? client.fetchResource()
      : fetch(RESOURCE, {
          headers: { Authorization: `Bearer ${await client.accessToken()}` },
          cache: "no-store",
        });
  async function fetchResource() {
    window.benchPending += 1;
    try {
      let answer = await send();
      if (answer.status === 401) {
        refreshing ??= client.refresh().finally(() => { refreshing = undefined; });
        try {
          await refreshing;
        } catch (error) {
          say(`Signed out: ${error.message}`);
          throw error;
        }
        answer = await send();
      }
      if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
      return await answer.text();
    } finally {
      window.benchPending -= 1;
    }
  }
  const button = document.getElementById("send-three");
  button.addEventListener("click", () => {
    for (const id of SLOTS) {
      const slot = document.getElementById(id);
      slot.textContent = "…";
      fetchResource().then(
        (text) => { slot.textContent = text; },
        (error) => { slot.textContent = `failed: ${error.message}`; },
      );
    }
  });
  document.getElementById("sign-in").addEventListener("click", () => client.signIn());
  window.benchBreakToken = () => client.breakToken();
  window.benchRefreshToken = () => client.refreshToken();
  window.benchAccessToken = () => client.storedAccessToken();
  try {
    const query = new URLSearchParams(location.search);
    if (query.has("code") || query.has("error")) {
      await client.finishSignIn();
      history.replaceState(null, "", pageAddress());
    }
    if (await client.signedIn()) {
      document.getElementById("data").textContent = await fetchResource();
      button.disabled = false;
      say("Signed in.");
    } else {
      say("Signed out.");
    }
  } catch (error) {
    say(`Signed out: ${error.message}`);
  }
  document.body.dataset.ready = "true";
}
