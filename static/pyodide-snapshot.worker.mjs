// Boots a Pyodide of its own, copies its memory right after the bootstrap and stores the
// copy for static/pyodide-boot.mjs to start the next page load from. That module starts
// this worker once the page is up and sends {indexURL, cacheName, key}; the worker answers
// {bytes, ms} or {error} and is then ended by the page.
onmessage = async ({ data: { indexURL, cacheName, key } }) => {
  const started = performance.now();
  try {
    const { loadPyodide } = await import(`${indexURL}pyodide.mjs`);
    const pyodide = await loadPyodide({ indexURL, _makeSnapshot: true });
    const snapshot = pyodide.makeMemorySnapshot();
    await (await caches.open(cacheName)).put(key, new Response(snapshot));
    postMessage({ bytes: snapshot.length, ms: Math.round(performance.now() - started) });
  } catch (error) {
    postMessage({ error: String(error) });
  }
};
