// The JavaScript half's DPoP key (refresh-gate/refresh_gate/browser_calls.js) in Node, which
// has the browser's WebCrypto but no IndexedDB or localStorage: two "tabs" (two contexts
// running the script, as two pages do) share a small in-memory stand-in for both. Then its
// fetchAnswer against a local server, for the two headers DPoP reads. Prints one JSON
// object: case name → what happened.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createContext, runInContext } from "node:vm";

const [sourcePath] = process.argv.slice(2);
const source = readFileSync(sourcePath, "utf8");

// IndexedDB as browser_calls.js uses it: open, one object store, put/get/delete, each
// request carried out in order and its transaction completed on a later turn.
function fakeIndexedDB(records) {
  const later = (transaction, work) => {
    const request = {};
    setTimeout(() => {
      request.result = work();
      transaction.oncomplete();
    });
    return request;
  };
  const database = {
    objectStoreNames: { contains: () => true },
    createObjectStore() {},
    transaction() {
      const transaction = {};
      const store = {
        put: (value, key) => later(transaction, () => void records.set(key, value)),
        get: (key) => later(transaction, () => records.get(key)),
        delete: (key) => later(transaction, () => void records.delete(key)),
      };
      transaction.objectStore = () => store;
      return transaction;
    },
  };
  return {
    open() {
      const opening = { result: database };
      setTimeout(() => {
        opening.onupgradeneeded();
        opening.onsuccess();
      });
      return opening;
    },
  };
}

function fakeStorage(items) {
  return {
    getItem: (key) => (items.has(key) ? items.get(key) : null),
    setItem: (key, value) => void items.set(key, String(value)),
    removeItem: (key) => void items.delete(key),
  };
}

const records = new Map();
const items = new Map();
function openTab() {
  const tab = createContext({
    crypto,
    TextEncoder,
    btoa,
    atob,
    queueMicrotask,
    setTimeout,
    clearTimeout,
    fetch,
    AbortSignal,
    indexedDB: fakeIndexedDB(records),
    localStorage: fakeStorage(items),
  });
  runInContext(source, tab);
  return tab.refreshGateCalls;
}

const P256 = { name: "ECDSA", namedCurve: "P-256" };
const verifies = async (jwkText, text, signature) => {
  const key = await crypto.subtle.importKey("jwk", JSON.parse(jwkText), P256, false, ["verify"]);
  const bytes = Buffer.from(signature, "base64url");
  const data = new TextEncoder().encode(text);
  return crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, bytes, data);
};
const rejects = (promise) => promise.then(() => false, () => true);

const first = openTab();
const second = openTab();
const text = "eyJ0eXAiOiJkcG9wK2p3dCJ9.eyJodG0iOiJHRVQifQ";
const results = {};

const [id, jwk] = await first.dpopNewKey();
const signature = await first.dpopSign(id, text);
results["public members"] = Object.keys(JSON.parse(jwk)).sort();
results["signature bytes"] = Buffer.from(signature, "base64url").length;
results["verifies with the public jwk"] = await verifies(jwk, text, signature);
results["fails for other text"] = !(await verifies(jwk, text + "x", signature));
const stored = records.get("current");
results["private key extractable"] = stored.privateKey.extractable;
results["private key exported"] = !(await rejects(crypto.subtle.exportKey("jwk", stored.privateKey)));
results["mark is the id"] = items.get("refresh-gate.dpop-key") === id;
results["nothing else in localStorage"] = [...items.keys()];

const [secondId, secondJwk] = await second.dpopLoadKey();
results["another tab reads the same key"] = secondId === id && secondJwk === jwk;
results["another tab's signature verifies"] = await verifies(jwk, text, await second.dpopSign(id, text));

const [newId, newJwk] = await second.dpopNewKey();
results["a new sign-in's key is another"] = newId !== id && newJwk !== jwk;
results["the old key no longer signs"] = await rejects(first.dpopSign(id, text));
results["the first tab signs with the new key"] = await verifies(
  newJwk,
  text,
  await first.dpopSign(newId, text),
);

await first.dpopForgetKey();
results["forgotten: no key to load"] = (await second.dpopLoadKey()) === null;
results["forgotten: no mark"] = !items.has("refresh-gate.dpop-key");
results["forgotten: nothing signs"] = await rejects(second.dpopSign(newId, text));

// fetchAnswer hands back DPoP's two headers, on the early 401 too.
const server = createServer((request, response) => {
  if (request.url === "/api") {
    response.writeHead(401, {
      "WWW-Authenticate": 'DPoP error="use_dpop_nonce"',
      "DPoP-Nonce": "n-1",
    });
    response.end("{}");
  } else {
    response.writeHead(400, { "Content-Type": "application/json", "DPoP-Nonce": "n-2" });
    response.end('{"error":"use_dpop_nonce"}');
  }
});
await new Promise((listening) => server.listen(0, "127.0.0.1", listening));
const base = `http://127.0.0.1:${server.address().port}`;
const withdraw = new AbortController().signal;
results["401 answer"] = await first.fetchAnswer(`${base}/api`, {}, 5000, withdraw);
results["400 answer"] = await first.fetchAnswer(`${base}/token`, { method: "POST" }, 5000, withdraw);
server.close();

process.stdout.write(JSON.stringify(results));
