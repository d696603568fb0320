// The page contract every JavaScript contestant shares with the app's own page: the same
// "Send 3 requests" button and result slots, the same localStorage keys, the same
// endpoints. Each contestant's main.js only builds its HTTP client and hands this module
// a `fetchResource()` that answers the resource's text or throws.

export const ACCESS_KEY = "token";
export const REFRESH_KEY = "refreshToken";
export const RESOURCE = "/api/resources";
export const REFRESH = "/authorization/refresh";
const SLOTS = ["first", "second", "third"];
const USER = { userName: "andreyka26_", password: "Mypass1*" };

/**
 * Put axios on the same wire as the app's transport: fetch with `cache: "no-store"`.
 * Chromium's HTTP cache lets one request at a time through for a URL it might cache, so
 * parallel GETs of /api/resources made with axios's default XMLHttpRequest adapter go out
 * one after another. `?transport=xhr` keeps that default, to measure axios as shipped.
 */
export function useAppTransport(axios) {
  if (new URLSearchParams(location.search).get("transport") === "xhr") return;
  axios.defaults.adapter = "fetch";
  axios.defaults.fetchOptions = { cache: "no-store" };
}

/** Store the pair a login or refresh answered; returns the new access token. */
export function storeTokens(answer) {
  localStorage.setItem(ACCESS_KEY, answer.authorizationToken);
  localStorage.setItem(REFRESH_KEY, answer.refreshToken);
  return answer.authorizationToken;
}

/** The session is over: drop the tokens and go to the login page, as the seed does. */
export function logOut() {
  localStorage.removeItem(ACCESS_KEY);
  localStorage.removeItem(REFRESH_KEY);
  location.assign("/login");
}

async function logInIfNeeded() {
  if (localStorage.getItem(ACCESS_KEY)) return;
  const response = await fetch("/authorization/token", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(USER),
  });
  storeTokens(await response.json());
}

/** Wire the button and the benchmark's control, log in if needed, then mark the page ready. */
export async function startPage(fetchResource) {
  // Requests started and not yet settled: the harness waits for zero before it stops a clock.
  window.benchPending = 0;
  const tracked = async () => {
    window.benchPending += 1;
    try {
      return await fetchResource();
    } finally {
      window.benchPending -= 1;
    }
  };
  document.getElementById("send-three").addEventListener("click", () => {
    for (const id of SLOTS) {
      const slot = document.getElementById(id);
      slot.textContent = "…";
      tracked().then(
        (text) => { slot.textContent = text; },
        (error) => { slot.textContent = `failed: ${error.message}`; },
      );
    }
  });
  // The benchmark fires `n` requests at once and learns how many got their answer.
  window.benchFire = async (n) => {
    const results = await Promise.allSettled(Array.from({ length: n }, tracked));
    const ok = results.filter((result) => result.status === "fulfilled").length;
    return { ok, failed: n - ok };
  };
  await logInIfNeeded();
  document.getElementById("send-three").disabled = false;
  document.body.dataset.ready = "true";
}
