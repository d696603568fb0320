// PyScript 0.7.31 turns its worker hooks into source text and back with Function(), on the
// main thread too, whenever a hook is registered; core registers one (for pyscript.fs) by
// default. This page starts no workers, so dropping those hooks lets it run under a
// Content-Security-Policy without 'unsafe-eval' (see server_stub/headers.py). Load it right
// after core.js: module scripts run in order, before PyScript reads its config.
import { hooks } from "/static/vendor/pyscript/0.7.31/core.js";

for (const hook of Object.values(hooks.worker)) hook.clear();
