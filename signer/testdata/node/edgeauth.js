// The Akamai EdgeAuth oracle of signer/akamai_test.go: reads a JSON array
// of cases on stdin, mints each with Akamai's published npm library
// akamai-edgeauth, and writes a JSON array of tokens (or {"error": …}).
'use strict';
const EdgeAuth = require('akamai-edgeauth');

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).map((c) => {
    try {
      const ea = new EdgeAuth({
        key: c.key,
        algorithm: c.algorithm,
        salt: c.salt || undefined,
        escapeEarly: c.escapeEarly,
        startTime: c.startTime || undefined,
        endTime: c.endTime,
        ip: c.ip || undefined,
        sessionId: c.sessionId || undefined,
        payload: c.payload || undefined,
      });
      return { token: c.url ? ea.generateURLToken(c.url) : ea.generateACLToken(c.acl) };
    } catch (e) {
      return { error: String(e.message) };
    }
  });
  process.stdout.write(JSON.stringify(out));
});
