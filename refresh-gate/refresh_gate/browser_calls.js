// The JavaScript half of the library's browser edge: the browser calls its Python makes
// through plain JavaScript, the two on the way from a 401 to its retries, localStorage's,
// and WebCrypto's for a sign-in and for DPoP.
// They live on one global object, `refreshGateCalls`.
//
// The library installs this file itself (_javascript.py), as an inline classic script run
// the moment it is added: no file to serve or list in a page. A page with a
// Content-Security-Policy allows it by its hash (server_stub/headers.py); hence no
// `import`/`export`, and everything inside one block so that nothing leaks into the page's
// global scope.
//
// Both start their work in a microtask, once Python has handed control back to the
// browser: called from inside Pyodide, fetch() took 0.5-6 ms (median about 1.1 ms), called
// from plain JavaScript 0.1-0.5 ms. Three requests sent at once leave sooner that way.

{
  // fetchAnswer(url, init, timeoutMs, withdraw) → [status, body text, DPoP-Nonce,
  // WWW-Authenticate] (a header missing is ""): fetch and read the body in one promise. Every JavaScript promise Python awaits costs turns of the browser's
  // event loop to come back into Python; awaiting fetch() and then response.text() would
  // cost two. The request is aborted once `withdraw` (an AbortSignal) aborts, or with a
  // TimeoutError after timeoutMs, by the browser's own timer.
  //
  // A 401 is answered as soon as its headers are in, with an empty body: nothing in the app
  // reads a 401's body (the gate acts on the status and on DPoP's two headers alone), and
  // its last bytes came 3-5 ms after the headers, on the way from the first 401 to the
  // refresh. The body is still read to its end in the background, so that the connection
  // can carry the next request. Only the two headers DPoP needs cross into Python.
  const answer = async (url, init) => {
    const response = await fetch(url, init);
    const { headers } = response;
    const said = [headers.get("DPoP-Nonce") ?? "", headers.get("WWW-Authenticate") ?? ""];
    if (response.status === 401) {
      response.arrayBuffer().catch(() => {});
      return [401, "", ...said];
    }
    return [response.status, await response.text(), ...said];
  };

  const fetchAnswer = (url, init, timeoutMs, withdraw) =>
    new Promise((resolve) =>
      queueMicrotask(() => {
        const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), withdraw]);
        resolve(answer(url, { ...init, signal }));
      }),
    );

  // requestLock(name, timeoutMs, withdraw) → a promise of `release`, once this tab holds the
  // exclusive Web Lock `name`; calling `release` lets it go. It rejects with an AbortError if
  // the lock is not granted within timeoutMs, or once `withdraw` (an AbortSignal) aborts; if
  // `withdraw` aborts after the grant, the lock is let go. Granting it straight to a promise
  // here spares a call into Python on the way from a 401 to its refresh.
  //
  // A lock this tab keeps after its block (keepLock below) is granted again at once, still
  // held: with a server that does not rotate, the tab's next refresh needs the same lock.
  const kept = new Map(); // lock name -> {release, timer}

  const requestLock = (name, timeoutMs, withdraw) =>
    new Promise((granted, failed) =>
      queueMicrotask(() => {
        const mine = kept.get(name);
        if (mine) {
          kept.delete(name);
          clearTimeout(mine.timer);
          if (withdraw.aborted) mine.release();
          else {
            withdraw.addEventListener("abort", () => mine.release(), { once: true });
            granted(mine.release);
          }
          return;
        }
        const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), withdraw]);
        const hold = () => {
          if (withdraw.aborted) return undefined; // given up just as it came: let go at once
          return new Promise((release) => {
            withdraw.addEventListener("abort", () => release(), { once: true });
            granted(release);
          });
        };
        navigator.locks.request(name, { mode: "exclusive", signal }, hold).catch(failed);
      }),
    );

  // keepLock(name, release, holdMs): let go of a lock requestLock granted only holdMs from
  // now; until then this tab keeps it, and a requestLock for it from this tab gets it back.
  const keepLock = (name, release, holdMs) => {
    const timer = setTimeout(() => {
      kept.delete(name);
      release();
    }, holdMs);
    kept.set(name, { release, timer });
  };

  // storageCall(method, key, value, area) → [true, what area[method] answered] or [false,
  // the error's name], `area` being "localStorage" (the default) or "sessionStorage". The
  // error is handed back, not thrown: on MicroPython 1.27 an error a JavaScript function
  // throws escapes the interpreter, past any Python `except`, and a browser that refuses
  // storage throws on every call (even on reading localStorage).
  const AREAS = new Set(["localStorage", "sessionStorage"]);
  const storageCall = (method, key, value, area = "localStorage") => {
    try {
      if (!AREAS.has(area)) throw new TypeError(`no storage area ${area}`);
      return [true, globalThis[area][method](key, value)];
    } catch (error) {
      return [false, error?.name || "Error"];
    }
  };

  // randomBase64url(count) → `count` bytes from the browser's cryptographic generator, for
  // the state, nonce and PKCE verifier of a sign-in, as base64url text: a string crosses
  // into either interpreter the same way, bytes do not.
  const base64url = (bytes) =>
    btoa(String.fromCharCode(...bytes))
      .replaceAll("+", "-")
      .replaceAll("/", "_")
      .replace(/=+$/, "");
  const randomBase64url = (count) => base64url(crypto.getRandomValues(new Uint8Array(count)));

  // verifySignature(jwk, alg, signed, signature) → a promise of whether `signature` (base64url)
  // is the public key `jwk`'s over the text `signed`, by WebCrypto: RS256 or ES256 only
  // (a JWS ES256 signature is r‖s, as WebCrypto's ECDSA expects). Anything it cannot
  // import or read answers false, never an error: on MicroPython 1.27 a thrown error
  // escapes the interpreter (see storageCall).
  const ALGORITHMS = {
    RS256: [{ name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, { name: "RSASSA-PKCS1-v1_5" }],
    ES256: [{ name: "ECDSA", namedCurve: "P-256" }, { name: "ECDSA", hash: "SHA-256" }],
  };
  const fromBase64url = (text) =>
    Uint8Array.from(atob(text.replaceAll("-", "+").replaceAll("_", "/")), (c) => c.charCodeAt(0));
  const verifySignature = async (jwk, alg, signed, signature) => {
    const [importAs, verifyAs] = ALGORITHMS[alg] ?? [];
    if (!importAs) return false;
    try {
      const key = await crypto.subtle.importKey("jwk", jwk, importAs, false, ["verify"]);
      const data = new TextEncoder().encode(signed);
      return await crypto.subtle.verify(verifyAs, key, fromBase64url(signature), data);
    } catch {
      return false;
    }
  };

  // The page's DPoP key (RFC 9449): an ECDSA P-256 pair made by WebCrypto with its private
  // half not extractable, kept in IndexedDB, which stores a CryptoKey as it is (structured
  // clone), so every tab and every reload of the origin signs with the same key and no
  // script can read it out; never in localStorage. Only a random id for the current key is
  // written there (KEY_MARK), so that a tab sees at once, without a wait, that another tab
  // made a new key or deleted it, and reads it anew.
  //
  // dpopNewKey() → a promise of [id, public JWK as JSON]: a new pair in place of any old
  //   one (a sign-in);
  // dpopLoadKey() → a promise of [id, public JWK as JSON], or null if there is no key;
  // dpopSign(id, text) → a promise of the ES256 signature (r‖s, base64url) of `text` by the
  //   key `id`; it rejects if the current key is another one;
  // dpopForgetKey() → delete the key (a logout); the promise is never rejected.
  const KEY_DATABASE = "refresh-gate";
  const KEY_STORE = "dpop-keys";
  const KEY_RECORD = "current";
  const KEY_MARK = "refresh-gate.dpop-key";
  const P256 = { name: "ECDSA", namedCurve: "P-256" };
  let database = null; // a promise of the open IndexedDB database, once asked for
  let currentKey = null; // {id, privateKey, jwk} of this tab, as last read or made

  // The database at whatever version it has; one that lacks the key store (made by other
  // code under this name) gets it in a version of its own, instead of failing for good.
  const openKeyDatabase = (version) =>
    new Promise((opened, failed) => {
      const opening = indexedDB.open(KEY_DATABASE, version);
      opening.onupgradeneeded = () => opening.result.createObjectStore(KEY_STORE);
      opening.onerror = () => failed(opening.error);
      opening.onsuccess = () => {
        const found = opening.result;
        if (found.objectStoreNames.contains(KEY_STORE)) return opened(found);
        found.close();
        openKeyDatabase(found.version + 1).then(opened, failed);
      };
    });
  const keyDatabase = () => (database ??= openKeyDatabase());
  // One request on the key store, answered once its transaction has committed. Requests
  // made in order are carried out in order (a logout's delete before a sign-in's put).
  const keyStore = async (mode, work) => {
    let transaction;
    try {
      transaction = (await keyDatabase()).transaction(KEY_STORE, mode);
    } catch (error) {
      database = null; // not opened, or closed by the browser: opened anew next time
      throw error;
    }
    const request = work(transaction.objectStore(KEY_STORE));
    return new Promise((done, failed) => {
      transaction.oncomplete = () => done(request.result);
      transaction.onerror = transaction.onabort = () => failed(transaction.error);
    });
  };
  const markKey = (id) => storageCall(id ? "setItem" : "removeItem", KEY_MARK, id);
  const answerKey = (key) => (key ? [key.id, JSON.stringify(key.jwk)] : null);

  const dpopNewKey = async () => {
    const pair = await crypto.subtle.generateKey(P256, false, ["sign", "verify"]);
    const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", pair.publicKey);
    const key = { id: randomBase64url(16), privateKey: pair.privateKey, jwk: { kty, crv, x, y } };
    await keyStore("readwrite", (store) => store.put(key, KEY_RECORD));
    currentKey = key;
    markKey(key.id);
    return answerKey(key);
  };

  const dpopLoadKey = async () => {
    currentKey = (await keyStore("readonly", (store) => store.get(KEY_RECORD))) ?? null;
    return answerKey(currentKey);
  };

  // Whether the key `id` may not be the current one: another tab may have replaced it.
  const maybeReplaced = (id) => {
    const [readable, mark] = storageCall("getItem", KEY_MARK);
    return currentKey?.id !== id || (readable && mark !== id);
  };

  const dpopSign = async (id, text) => {
    if (maybeReplaced(id)) await dpopLoadKey();
    if (currentKey?.id !== id) throw new Error("the DPoP key changed while the proof was made");
    const signature = await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" },
      currentKey.privateKey,
      new TextEncoder().encode(text),
    );
    return base64url(new Uint8Array(signature));
  };

  const dpopForgetKey = () => {
    currentKey = null;
    markKey(null);
    return keyStore("readwrite", (store) => store.delete(KEY_RECORD)).catch(() => {});
  };

  globalThis.refreshGateCalls = Object.freeze({
    fetchAnswer,
    requestLock,
    keepLock,
    storageCall,
    randomBase64url,
    verifySignature,
    dpopNewKey,
    dpopLoadKey,
    dpopSign,
    dpopForgetKey,
  });
}
