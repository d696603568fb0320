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
      await sleep(Math.max(0, at - Date.now()));
      const start = performance.now();
      try {
        if (fire) {
          const answered = await Promise.race([fireAll(fire), stuck()]);
          if (answered === "stuck") return { ms: null, issued: fire, stuck: true };
          return { ms: performance.now() - start, issued: fire, stuck: false };
        }
        const { honoured, stuck: isStuck } = await clickAway(button, clicks, gap);
        return { ms: isStuck ? null : last - start, issued: 3 * honoured, honoured, stuck: isStuck };
      } finally {
        observer.disconnect();
      }
    })();
  };

  bench.collect = () => bench.result;
})();
