// Vendors' signers as oracles for signer's tests: reads one JSON case per
// line on stdin, writes one JSON answer per line on stdout.
//   {"kind":"cloudfront-url"|"cloudfront-cookies", ...getSignedUrl args}
//   {"kind":"s3", endPoint, port, useSSL, pathStyle, accessKey, secretKey,
//    region, bucket, object, expires, requestDate, params}
//   {"kind":"ed25519-verify", token, publicKey}
"use strict";
const { getSignedUrl, getSignedCookies } = require("@aws-sdk/cloudfront-signer");
const Minio = require("minio");
const readline = require("node:readline");
const crypto = require("node:crypto");

async function answer(c) {
  switch (c.kind) {
    case "cloudfront-url":
      return { url: getSignedUrl(c.args) };
    case "cloudfront-cookies":
      return { cookies: getSignedCookies(c.args) };
    case "ed25519-verify": {
      // node's own Ed25519 (OpenSSL), over the JWT's signing input.
      const [h, p, sig] = c.token.split(".");
      const ok = crypto.verify(null, Buffer.from(h + "." + p), c.publicKey, Buffer.from(sig, "base64url"));
      return { ok, header: JSON.parse(Buffer.from(h, "base64url")), payload: JSON.parse(Buffer.from(p, "base64url")) };
    }
    case "s3": {
      const m = new Minio.Client({
        endPoint: c.endPoint, port: c.port, useSSL: c.useSSL, pathStyle: c.pathStyle,
        accessKey: c.accessKey, secretKey: c.secretKey, region: c.region,
      });
      return { url: await m.presignedGetObject(c.bucket, c.object, c.expires, c.params || {}, new Date(c.requestDate)) };
    }
  }
  throw new Error("unknown kind " + c.kind);
}

(async () => {
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line) continue;
    try {
      process.stdout.write(JSON.stringify(await answer(JSON.parse(line))) + "\n");
    } catch (e) {
      process.stdout.write(JSON.stringify({ error: String(e && e.message || e) }) + "\n");
    }
  }
})();
