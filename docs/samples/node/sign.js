#!/usr/bin/env node
// Mint a Qencode-compatible signed-URL token with jsonwebtoken (npm).
//
//   node sign.js KEY_FILE KID URI TTL [nbf=SECONDS] [NAME=VALUE ...]
//
// KEY_FILE is the signing key's private half, PKCS#1 PEM ("BEGIN RSA
// PRIVATE KEY"), as the API returned it when the key was created. KID is
// the key's id, URI the path (or directory) the token grants ("" for the
// whole bucket), TTL its lifetime in seconds. nbf=SECONDS makes the token
// active SECONDS from now (0: at once); any other NAME=VALUE is a custom
// string claim. The token goes to standard output; append it to the URL as
// ?auth=TOKEN.
'use strict';

const fs = require('fs');
const jwt = require('jsonwebtoken');

function usage(msg) {
  process.stderr.write(`sign.js: ${msg}\nusage: node sign.js KEY_FILE KID URI TTL [nbf=SECONDS] [NAME=VALUE ...]\n`);
  process.exit(2);
}

const [keyFile, kid, uri, ttlText, ...extra] = process.argv.slice(2);
if (uri === undefined || ttlText === undefined) usage('want KEY_FILE KID URI TTL');
const ttl = Number(ttlText);
if (!Number.isInteger(ttl)) usage(`TTL ${ttlText} is not a whole number of seconds`);

const now = Math.floor(Date.now() / 1000);
const claims = { uri: uri, exp: now + ttl };
for (const arg of extra) {
  const eq = arg.indexOf('=');
  if (eq <= 0) usage(`${arg} is not NAME=VALUE`);
  const name = arg.slice(0, eq);
  const value = arg.slice(eq + 1);
  if (name === 'nbf') {
    if (!/^-?[0-9]+$/.test(value)) usage(`nbf=${value} is not a whole number of seconds`);
    claims.nbf = now + Number(value);
  } else if (name === 'uri' || name === 'exp') {
    usage(`${name} is set from the arguments`);
  } else {
    claims[name] = value;
  }
}

const token = jwt.sign(claims, fs.readFileSync(keyFile), {
  algorithm: 'RS256',
  keyid: kid,
  header: { typ: 'JWT' },
  noTimestamp: true, // no iat: the contract needs none
});
process.stdout.write(token + '\n');
