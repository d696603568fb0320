// The interpreter module pyscript.toml names: Pyodide's own loadPyodide, started from a
// memory snapshot of a freshly booted interpreter when this browser has stored one.
//
// Booting Pyodide runs Python's start-up and Pyodide's own bootstrap (importing `pyodide`,
// `asyncio` and the rest) inside WebAssembly: about 1.6 s of the 2.3 s a reload took on a
// two-core machine, every time, although the outcome never changes. Pyodide can copy its
// memory right after that bootstrap (`_makeSnapshot`) and start from such a copy
// (`_loadSnapshot`) in a few hundred milliseconds. The copy holds nothing of the page or
// the user: it is taken before PyScript or the app run any code, in a worker.
//
// The first load boots as usual. Once the page is up (PyScript's py:all-done), a worker
// boots a second interpreter, copies it and stores the copy in the Cache API under the
// pinned version, then ends (static/pyodide-snapshot.worker.mjs). The next load starts from
// the copy. Pyodide refuses a copy made by another build of itself; a copy that fails to
// boot is dropped, the page boots as usual and stores a new one.
//
// `_makeSnapshot` and `_loadSnapshot` are Pyodide's private options (Cloudflare's Python
// Workers start from such snapshots). They are pinned with the runtime; the server tests
// check that this file names the pinned version.
import {
  loadPyodide as bootPyodide,
  version,
} from "/static/vendor/pyodide/314.0.8/pyodide.mjs";

export { version };

const INDEX_URL = "/static/vendor/pyodide/314.0.8/";
const SNAPSHOT_CACHE = "pyodide-snapshot";
const SNAPSHOT_KEY = `${INDEX_URL}snapshot`; // a key in the cache, never fetched

// Without the Cache API (a page not served from a secure context) there is nowhere to keep
// a snapshot: boot as usual, every time.
const cache = globalThis.caches ? caches.open(SNAPSHOT_CACHE).catch(() => null) : null;

// Read from the first moment, while PyScript still fetches its config and Pyodide.
let stored = readSnapshot();

async function readSnapshot() {
  try {
    const response = await (await cache)?.match(SNAPSHOT_KEY);
    return response ? new Uint8Array(await response.arrayBuffer()) : null;
  } catch {
    return null;
  }
}

// Python modules imported during the bootstrap keep the state the copy was taken with:
// without this, every page started from one snapshot would draw the same random numbers.
const RESEED = "import sys\nif 'random' in sys.modules: sys.modules['random'].seed()";

function booted(pyodide, how) {
  delete pyodide._api.config._loadSnapshot; // now in the interpreter's memory: let it go
  performance.mark("pyodide-boot", { detail: how });
  return pyodide;
}

export async function loadPyodide(options = {}) {
  const settings = { ...options, indexURL: INDEX_URL };
  const snapshot = await stored;
  stored = null; // 30 MB: keep no reference once used
  if (snapshot) {
    try {
      const pyodide = await bootPyodide({ ...settings, _loadSnapshot: snapshot });
      pyodide.runPython(RESEED);
      return booted(pyodide, "snapshot");
    } catch (error) {
      console.warn("The stored Pyodide snapshot does not boot; making a new one.", error);
    }
  }
  if (await cache) addEventListener("py:all-done", storeSnapshot, { once: true });
  return booted(await bootPyodide(settings), "plain");
}

// In a worker, so that the page never waits for it; it replaces whatever copy was stored.
function storeSnapshot() {
  const worker = new Worker("/static/pyodide-snapshot.worker.mjs", { type: "module" });
  worker.postMessage({ indexURL: INDEX_URL, cacheName: SNAPSHOT_CACHE, key: SNAPSHOT_KEY });
  worker.onmessage = ({ data }) => {
    worker.terminate();
    if (data.error) console.warn("No Pyodide snapshot stored:", data.error);
    else performance.mark("pyodide-snapshot", { detail: data });
  };
  worker.onerror = (event) => {
    worker.terminate();
    console.warn("No Pyodide snapshot stored:", event.message);
  };
}
