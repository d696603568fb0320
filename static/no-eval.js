// The page's one script: it starts PyScript by importing it, then drops PyScript's worker
// hooks before PyScript can use them.
//
// PyScript 0.7.31 turns its worker hooks into source text and back with Function(), on the
// main thread too, whenever a hook is registered; core registers one (for pyscript.fs) by
// default. This page starts no workers, so dropping those hooks lets it run under a
// Content-Security-Policy without 'unsafe-eval' (see server_stub/headers.py).
//
// Importing core.js here, rather than loading it from a script tag of its own, is what makes
// that safe: core.js and this module run in one go, with no task in between, so no fetch
// PyScript started (its config, say, already in the cache) can come back before the hooks
// are gone. As two script tags, a reload that found core.js cached and this file slow to
// revalidate broke the page.
import { hooks } from "/static/vendor/pyscript/0.7.31/core.js";

for (const hook of Object.values(hooks.worker)) hook.clear();
