// The library's JavaScript half (refresh-gate/refresh_gate/browser_calls.js) in Node, which
// has the browser's WebCrypto: run as the page runs it (a classic script), then its
// signature check against keys made and signatures signed here. Prints one JSON object:
// case name → what verifySignature answered (or the bytes randomBytes drew).
import { readFileSync } from "node:fs";
import { runInThisContext } from "node:vm";

const [source] = process.argv.slice(2);
runInThisContext(readFileSync(source, "utf8"));
const { verifySignature, randomBase64url } = globalThis.refreshGateCalls;

const base64url = (bytes) => Buffer.from(bytes).toString("base64url");
const signingInput = `${base64url(Buffer.from('{"alg":"RS256"}'))}.${base64url(Buffer.from('{"iss":"x"}'))}`;

async function keyPair(alg) {
  const params =
    alg === "RS256"
      ? { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }
      : { name: "ECDSA", namedCurve: "P-256" };
  const pair = await crypto.subtle.generateKey(params, true, ["sign", "verify"]);
  const sign = alg === "RS256" ? { name: "RSASSA-PKCS1-v1_5" } : { name: "ECDSA", hash: "SHA-256" };
  const signature = await crypto.subtle.sign(sign, pair.privateKey, new TextEncoder().encode(signingInput));
  const jwk = { ...(await crypto.subtle.exportKey("jwk", pair.publicKey)), kid: "k1", use: "sig", alg };
  return { jwk, signature: base64url(new Uint8Array(signature)) };
}

const rsa = await keyPair("RS256");
const ec = await keyPair("ES256");
const other = await keyPair("RS256");
const flipped = rsa.signature.slice(0, -2) + (rsa.signature.endsWith("AA") ? "AB" : "AA");
const results = {
  rs256: await verifySignature(rsa.jwk, "RS256", signingInput, rsa.signature),
  es256: await verifySignature(ec.jwk, "ES256", signingInput, ec.signature),
  "rs256 other text": await verifySignature(rsa.jwk, "RS256", signingInput + "x", rsa.signature),
  "rs256 flipped signature": await verifySignature(rsa.jwk, "RS256", signingInput, flipped),
  "rs256 other key": await verifySignature(other.jwk, "RS256", signingInput, rsa.signature),
  "rsa key as es256": await verifySignature(rsa.jwk, "ES256", signingInput, rsa.signature),
  "hs256": await verifySignature({ kty: "oct", k: "c2VjcmV0" }, "HS256", signingInput, rsa.signature),
  "none": await verifySignature(rsa.jwk, "none", signingInput, ""),
  "garbage key": await verifySignature({ kty: "RSA" }, "RS256", signingInput, rsa.signature),
  "garbage signature": await verifySignature(rsa.jwk, "RS256", signingInput, "!!"),
  random: [...Buffer.from(randomBase64url(64), "base64url")],
  "random again": [...Buffer.from(randomBase64url(64), "base64url")],
  "random text": randomBase64url(64),
};
process.stdout.write(JSON.stringify(results));
