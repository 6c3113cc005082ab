'use strict';
// GET /metrics in Prometheus's text format 0.0.4: the names the stack's alerts read, escaped
// label values, cumulative histogram buckets, and a real HTTP server counting its answers.
const test = require('node:test');
const assert = require('node:assert');
const http = require('http');
const {
  CONTENT_TYPE, Counter, Gauge, Histogram, Registry, escapeLabel, formatValue,
} = require('../lib/metrics');
const { routeOf } = require('../lib/entries');

// The value of the one sample line `series` (name and labels as printed), or undefined.
function sample(text, series) {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : line.slice(series.length + 1);
}

function get(port, path) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body }));
    }).on('error', reject);
  });
}

test('label values escape backslash, double quote and line feed', () => {
  assert.strictEqual(escapeLabel('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  const counter = new Counter('things_total', 'Things', ['kind']);
  counter.inc({ kind: 'say "hi"\n' });
  assert.deepStrictEqual(counter.lines(), [
    '# HELP things_total Things',
    '# TYPE things_total counter',
    'things_total{kind="say \\"hi\\"\\n"} 1',
  ]);
});

test('a counter adds per label set and refuses to go down', () => {
  const counter = new Counter('hits_total', 'Hits', ['code']);
  counter.inc({ code: 200 });
  counter.inc({ code: 200 }, 2);
  counter.inc({ code: 500 });
  const text = counter.lines().join('\n');
  assert.strictEqual(sample(text, 'hits_total{code="200"}'), '3');
  assert.strictEqual(sample(text, 'hits_total{code="500"}'), '1');
  assert.throws(() => counter.inc({ code: 200 }, -1), RangeError);
});

test('histogram buckets are cumulative and +Inf equals the count', () => {
  const histogram = new Histogram('wait_seconds', 'Waits', [0.1, 1]);
  for (const seconds of [0.05, 0.1, 0.5, 3]) {
    histogram.observe(seconds);
  }
  const text = histogram.lines().join('\n');
  assert.match(text, /^# TYPE wait_seconds histogram$/m);
  assert.strictEqual(sample(text, 'wait_seconds_bucket{le="0.1"}'), '2');
  assert.strictEqual(sample(text, 'wait_seconds_bucket{le="1"}'), '3');
  assert.strictEqual(sample(text, 'wait_seconds_bucket{le="+Inf"}'), '4');
  assert.strictEqual(sample(text, 'wait_seconds_count'), '4');
  assert.ok(Math.abs(Number(sample(text, 'wait_seconds_sum')) - 3.65) < 1e-9);
});

test('special values are spelled as Prometheus parses them', () => {
  assert.deepStrictEqual([NaN, Infinity, -Infinity, 0.25].map(formatValue), ['NaN', '+Inf', '-Inf', '0.25']);
});

test('a gauge that cannot be read is NaN, not a failed page', async () => {
  const registry = new Registry();
  registry.add(new Gauge('depth', 'Depth', async () => { throw new Error('no database'); }));
  registry.add(new Gauge('size', 'Size', () => '7'));
  const text = await registry.page();
  assert.strictEqual(sample(text, 'depth'), 'NaN');
  assert.strictEqual(sample(text, 'size'), '7');
  assert.ok(text.endsWith('\n'));
});

test('the api names a bounded set of routes', () => {
  assert.deepStrictEqual(
    ['/healthz', '/entries', '/entries/42', '/entries/42/x', '/secret'].map(routeOf),
    ['/healthz', '/entries', '/entries/:id', 'other', 'other']);
});

test('an instrumented server counts and times its answers but not the scrapes', async () => {
  const registry = new Registry();
  const server = http.createServer(registry.instrument((req, res) => {
    res.writeHead(req.url === '/boom' ? 503 : 200);
    res.end();
  }, (req) => req.url));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  try {
    await get(port, '/ok');
    await get(port, '/boom');
    await get(port, '/metrics');
    const page = await get(port, '/metrics');
    assert.strictEqual(page.status, 200);
    assert.strictEqual(page.type, CONTENT_TYPE);
    assert.strictEqual(sample(page.body, 'http_requests_total{code="200",method="GET",route="/ok"}'), '1');
    assert.strictEqual(sample(page.body, 'http_requests_total{code="503",method="GET",route="/boom"}'), '1');
    assert.ok(!page.body.includes('route="/metrics"'), 'scrapes are not counted');
    assert.strictEqual(sample(page.body, 'http_request_duration_seconds_count'), '2');
    assert.strictEqual(sample(page.body, 'http_request_duration_seconds_bucket{le="+Inf"}'), '2');
  } finally {
    server.close();
  }
});
