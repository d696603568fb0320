// In-page half of bench/run.py, added to every page it opens as a Playwright init script
// (so the page's Content-Security-Policy does not apply to it). It defines window.__bench
// and watches for the page's readiness mark; it changes nothing on the page by itself.
(() => {
  const SLOTS = ["first", "second", "third"];
  const bench = (window.__bench = { readyAt: null, pythonReadyAt: null, result: null });

  // PyScript pages: the runtime is up and the page's files are in, its script not yet run
  // (the event is named for the script's type: py:ready on Pyodide, mpy:ready on MicroPython).
  for (const type of ["py", "mpy"]) {
    document.addEventListener(`${type}:ready`, () => { bench.pythonReadyAt ??= performance.now(); });
  }

  // Start-up: the moment the page marks itself ready, on its own clock (0 = navigation start).
  new MutationObserver((_, observer) => {
    if (document.body && document.body.hasAttribute("data-ready")) {
      bench.readyAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-ready"] });

  // Fire n requests at once: the JavaScript pages' window.benchFire, or the app's documented
  // hook window.refreshGateFire("app", n) (its own code path), which answers how many got
  // their 200.
  async function fireAll(n) {
    if (window.benchFire) return window.benchFire(n);
    const ok = await window.refreshGateFire("app", n);
    return { ok, failed: n - ok };
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const slots = () => SLOTS.map((id) => document.getElementById(id));
  const filled = (slot) => slot.textContent !== "" && slot.textContent !== "…";

  // Settled: every slot holds an answer, the button acts again, no request is pending.
  function settled(button) {
    return slots().every(filled) && !button.disabled && !(window.benchPending > 0);
  }

  // A page that never settles (a client waiting on itself) must not hang the benchmark.
  const STUCK_AFTER_MS = 60_000;
  const stuck = () => new Promise((resolve) => setTimeout(() => resolve("stuck"), STUCK_AFTER_MS));

  async function clickAway(button, clicks, gap) {
    let honoured = 0;
    for (let i = 0; i < clicks; i++) {
      if (i) await sleep(gap);
      // A click on a disabled button does nothing, as for a person: count the ones that act.
      // Emptied slots cannot look settled before a page that starts its work in a later
      // task has even begun.
      if (!button.disabled) {
        honoured += 1;
        for (const slot of slots()) slot.textContent = "";
      }
      button.click();
    }
    const deadline = performance.now() + STUCK_AFTER_MS;
    while (!settled(button)) {
      if (performance.now() > deadline) return { honoured, stuck: true };
      await sleep(2);
    }
    return { honoured, stuck: false };
  }

  // How quickly the page reacted, from Resource Timing (which has each answer's status): how
  // many requests left before the first 401 was in (no client can spare them a 401), from
  // that 401 to the refresh request out, and from the refresh answer in to the first request
  // out after it (a retry). Null where the run had no such step.
  function lags(start) {
    const entries = performance.getEntriesByType("resource").filter((e) => e.startTime >= start);
    const path = (entry) => new URL(entry.name).pathname;
    const refresh = entries.find((entry) => path(entry) === "/authorization/refresh");
    const resources = entries.filter((entry) => path(entry) === "/api/resources");
    const first401 = Math.min(...resources.filter((e) => e.responseStatus === 401).map((e) => e.responseEnd));
    const early = resources.filter((entry) => entry.startTime < first401).length;
    if (!Number.isFinite(first401)) return { early: 0, refresh_lag: null, retry_lag: null };
    if (!refresh) return { early, refresh_lag: null, retry_lag: null };
    const after = resources.filter((entry) => entry.startTime >= refresh.responseEnd);
    const retry = Math.min(...after.map((entry) => entry.startTime));
    return {
      early,
      refresh_lag: refresh.startTime - first401,
      retry_lag: Number.isFinite(retry) ? retry - refresh.responseEnd : null,
    };
  }

  // Arm one run to start at wall-clock time `at` (ms since the epoch), so that several tabs
  // start together; `collect()` answers what happened. Time is taken from the first click
  // to the last change of a result slot (clicks), or until every fired request settled.
  bench.arm = ({ at, clicks, gap, fire }) => {
    bench.result = (async () => {
      const button = document.getElementById("send-three");
      let last = 0;
      const observer = new MutationObserver(() => { last = performance.now(); });
      for (const slot of slots()) {
        observer.observe(slot, { childList: true, characterData: true, subtree: true });
      }
      performance.setResourceTimingBufferSize(10 * (fire + 3 * clicks) + 100);
      performance.clearResourceTimings();
      await sleep(Math.max(0, at - Date.now()));
      const start = performance.now();
      try {
        if (fire) {
          const answered = await Promise.race([fireAll(fire), stuck()]);
          if (answered === "stuck") return { ms: null, issued: fire, stuck: true };
          return { ms: performance.now() - start, issued: fire, stuck: false, ...lags(start) };
        }
        const { honoured, stuck: isStuck } = await clickAway(button, clicks, gap);
        const ms = isStuck ? null : last - start;
        return { ms, issued: 3 * honoured, honoured, stuck: isStuck, ...lags(start) };
      } finally {
        observer.disconnect();
      }
    })();
  };

  bench.collect = () => bench.result;
})();
