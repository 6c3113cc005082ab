'use strict';
// The worker's call to the api, against a real HTTP server on a free local port.
const test = require('node:test');
const assert = require('node:assert');
const http = require('http');
const { checkHealth } = require('../lib/api');

function serve(handler) {
  return new Promise((resolve) => {
    const server = http.createServer(handler);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

test('checkHealth returns the status of GET /healthz', async () => {
  const seen = [];
  const server = await serve((req, res) => {
    seen.push(req.url);
    res.writeHead(req.url === '/healthz' ? 503 : 404);
    res.end();
  });
  try {
    const status = await checkHealth(`http://127.0.0.1:${server.address().port}`);
    assert.strictEqual(status, 503);
    assert.deepStrictEqual(seen, ['/healthz']);
  } finally {
    server.close();
  }
});

test('checkHealth says why there was no answer', async () => {
  const server = await serve(() => {});
  const { port } = server.address();
  server.close();
  const refused = await checkHealth(`http://127.0.0.1:${port}`);
  assert.ok(refused instanceof Error && /ECONNREFUSED/.test(refused.message), String(refused));
  const bad = await checkHealth('not a url');
  assert.ok(bad instanceof Error && /not a URL/.test(bad.message), String(bad));
});
