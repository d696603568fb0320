// The library's and the demo's unit tests under MicroPython, the interpreter the page runs
// on at "/".
//
//   node tests/micropython/runner.mjs [--root DIR] [--library DIR] [--timeout SECONDS]
//                                     [tests/folder/test_file.py ...]
//
// Boots MicroPython from the npm package the page vendors, copies the library's package
// (LIBRARY/refresh_gate, LIBRARY defaulting to DIR/refresh-gate: pass the folder a wheel
// was unpacked into to test the wheel), DIR/app/*.py and the test folders' *.py (DIR: this
// repository) into its file system, and runs every test of the named test modules (default:
// every test_*.py of tests/refresh_gate/ and tests/app/), one after another in one
// interpreter, as pytest does in one process. The tests are the same functions pytest runs
// on CPython; tests/portable.py lists their cases.
//
// Prints one JSON line a test: {"test": "tests/folder/test_file.py::name[case]", "passed",
// "traceback", "output", "seconds"}. A test fails on an exception, after SECONDS (default
// 30), or when anything reaches stderr while it runs ("Task exception wasn't retrieved"
// among others), as an end-to-end test fails on a console error. A module that cannot be
// imported is one failed line, "tests/folder/test_file.py::" followed by its traceback.
// Exit status: 0 when every test passed, 1 when one failed, 2 when MicroPython could not
// be loaded.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPOSITORY = resolve(HERE, "..", "..");
const MICROPYTHON = join(
  REPOSITORY,
  "node_modules/@micropython/micropython-webassembly-pyscript/micropython.mjs",
);
const TEST_FOLDERS = ["tests/refresh_gate", "tests/app"]; // the portable tests
const WORK = "/work"; // where the copied tree lives inside MicroPython's file system

function parseArguments(argv) {
  const options = { root: REPOSITORY, library: null, timeout: 30, modules: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--root") options.root = resolve(argv[++i]);
    else if (argv[i] === "--library") options.library = resolve(argv[++i]);
    else if (argv[i] === "--timeout") options.timeout = Number(argv[++i]);
    else options.modules.push(argv[i]);
  }
  options.library ??= join(options.root, "refresh-gate");
  return options;
}

function pythonFiles(folder) {
  return existsSync(folder) ? readdirSync(folder).filter((name) => name.endsWith(".py")) : [];
}

// The tree the tests import from: the library's package and app/ (all of them; the tests
// import only the pure core, and a module they do not import is never compiled) and the
// test folders.
function copyTree(mp, root, library) {
  const folders = [
    ["refresh_gate", join(library, "refresh_gate")],
    ...["app", "tests", ...TEST_FOLDERS].map((folder) => [folder, join(root, folder)]),
  ];
  for (const [folder, source] of folders) {
    mp.FS.mkdirTree(`${WORK}/${folder}`);
    for (const name of pythonFiles(source)) {
      mp.FS.writeFile(`${WORK}/${folder}/${name}`, readFileSync(join(source, name)));
    }
  }
}

// MicroPython's side: import a module, list its cases, run one. Kept small: the logic that
// must be the same on both interpreters is in portable.py.
const DRIVER = `
import asyncio, json
from tests import portable

def _list(module_name):
    global _cases
    module = __import__(module_name, None, None, ["_"])
    _cases = portable.scenarios(module)
    return json.dumps([name for name, _test, _args in _cases])

async def _run(index, timeout):
    _name, test, args = _cases[index]
    # In a task of its own: code awaited straight from JavaScript runs as MicroPython's
    # top-level coroutine, which wait_for cannot cancel when its time is up.
    await asyncio.create_task(_within(portable.run(test, args), timeout))

async def _within(running, timeout):
    try:
        await asyncio.wait_for(running, timeout)
    except asyncio.TimeoutError:
        raise AssertionError("still running after %s s" % timeout)

async def _settle():
    # Let a task that ended with an error report it now, in this test, then drop every
    # task the test left behind, as asyncio.run does when a test ends on CPython.
    for _ in range(3):
        await asyncio.sleep(0)
    asyncio.new_event_loop()
`;

const options = parseArguments(process.argv.slice(2));
if (!existsSync(MICROPYTHON)) {
  console.error(`MicroPython is missing: ${MICROPYTHON} (run \`make setup\`, or \`npm ci\`)`);
  process.exit(2);
}
const { loadMicroPython } = await import(pathToFileURL(MICROPYTHON).href);
let captured = { stdout: [], stderr: [] };
const mp = await loadMicroPython({
  stdout: (line) => captured.stdout.push(line),
  stderr: (line) => captured.stderr.push(line),
});
copyTree(mp, options.root, options.library);
mp.FS.chdir(WORK); // sys.path starts with "": tracebacks name tests/…/test_….py
mp.runPython(DRIVER);

const modules = options.modules.length
  ? options.modules
  : TEST_FOLDERS.flatMap((folder) =>
      pythonFiles(join(options.root, folder))
        .filter((name) => name.startsWith("test_"))
        .sort()
        .map((name) => `${folder}/${name}`),
    );

const tally = { passed: 0, failed: 0 };
const report = (result) => {
  tally[result.passed ? "passed" : "failed"] += 1;
  process.stdout.write(`${JSON.stringify(result)}\n`);
};
const started = performance.now();
for (const file of modules) {
  const moduleName = file.replace(/\.py$/, "").replaceAll("/", ".");
  captured = { stdout: [], stderr: [] };
  let names;
  try {
    mp.runPython(`_names = _list(${JSON.stringify(moduleName)})`);
    names = JSON.parse(mp.globals.get("_names"));
  } catch (error) {
    report({ test: `${file}::`, passed: false, traceback: error.message, output: "", seconds: 0 });
    continue;
  }
  for (const [index, name] of names.entries()) {
    captured = { stdout: [], stderr: [] };
    const testStarted = performance.now();
    let traceback = null;
    try {
      await mp.runPythonAsync(`await _run(${index}, ${options.timeout})`);
    } catch (error) {
      traceback = error.message;
    }
    try {
      await mp.runPythonAsync("await _settle()");
    } catch (error) {
      traceback = traceback ?? error.message;
    }
    const stderr = captured.stderr.join("\n");
    if (traceback === null && stderr) traceback = `wrote to stderr:\n${stderr}`;
    report({
      test: `${file}::${name}`,
      passed: traceback === null,
      traceback,
      output: captured.stdout.concat(captured.stderr).join("\n"),
      seconds: (performance.now() - testStarted) / 1000,
    });
  }
}
const seconds = ((performance.now() - started) / 1000).toFixed(2);
console.error(`${tally.passed} passed, ${tally.failed} failed under MicroPython in ${seconds} s`);
// Timers of the tasks the last tests left behind would keep Node waiting: leave now.
process.exit(tally.failed ? 1 : 0);
