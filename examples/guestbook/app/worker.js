'use strict';
// The worker: takes entries nobody has processed yet and stores their word count.
// Several replicas may run: FOR UPDATE SKIP LOCKED hands each entry to one of them.
// Its one port serves GET /metrics for Prometheus (lib/metrics.js): the entries it processed
// and those waiting. Its health check (an exec check in stack.yaml) looks at the heartbeat
// file, touched after every successful round trip to the database.
const fs = require('fs');
const http = require('http');
const { pool, sleep, log } = require('./lib/db');
const { summarize } = require('./lib/entries');
const { checkHealth } = require('./lib/api');
const { Counter, Gauge, Registry } = require('./lib/metrics');

const HEARTBEAT = process.env.HEARTBEAT_FILE || '/tmp/worker.alive';
const BATCH = 10;
// The api, which the worker checks every API_EVERY_MS (stack.yaml: env API_URL, calls api).
const API_URL = process.env.API_URL || 'http://api:8080';
const API_EVERY_MS = 10000;
const METRICS_PORT = Number(process.env.METRICS_PORT || 9464);
const metrics = new Registry();
const processed = metrics.add(new Counter('guestbook_entries_processed_total',
  'Entries the worker summarized'));
// PostgreSQL's SQLSTATE for "relation does not exist".
const UNDEFINED_TABLE = '42P01';
let stopping = false;
let waitingSaid = false;
let lastError = '';
let lastApi = '';

// Log the api's health when it changes: a call to another service of the stack.
async function watchApi() {
  while (!stopping) {
    const answer = await checkHealth(API_URL);
    const said = answer instanceof Error ? `api did not answer: ${answer.message}` : `api answered ${answer}`;
    if (said !== lastApi) {
      log(said);
      lastApi = said;
    }
    // In short steps: a stopping worker must not wait out the interval.
    for (let waited = 0; waited < API_EVERY_MS && !stopping; waited += 500) {
      await sleep(500);
    }
  }
}

async function processBatch(db) {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    const pending = await client.query(
      'SELECT id, message FROM entries WHERE processed_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED',
      [BATCH]);
    for (const row of pending.rows) {
      const { words } = summarize(row.message);
      await client.query('UPDATE entries SET words = $1, processed_at = now() WHERE id = $2', [words, row.id]);
    }
    await client.query('COMMIT');
    processed.inc({}, pending.rowCount);
    return pending.rowCount;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

// GET /metrics; anything else is a 404 (counted like the api's requests).
function serveMetrics(db) {
  metrics.add(new Gauge('guestbook_entries_pending', 'Entries waiting for the worker',
    async () => (await db.query('SELECT count(*) AS n FROM entries WHERE processed_at IS NULL')).rows[0].n));
  const server = http.createServer(metrics.instrument((req, res) => {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('only GET /metrics here\n');
  }, () => 'other'));
  server.listen(METRICS_PORT, () => log(`metrics on ${METRICS_PORT}`));
  return server;
}

async function main() {
  const db = pool();
  log('started');
  const server = serveMetrics(db);
  const watching = watchApi();
  while (!stopping) {
    let done = 0;
    try {
      done = await processBatch(db);
      fs.writeFileSync(HEARTBEAT, `${Date.now()}\n`);
      lastError = '';
      if (done) {
        log(`processed ${done} entr${done === 1 ? 'y' : 'ies'}`);
      }
    } catch (err) {
      if (err.code === UNDEFINED_TABLE) {
        // The database answered: the migrate job has not run yet (Compose starts the
        // services first, Kubernetes all at once). Healthy, and nothing to do.
        fs.writeFileSync(HEARTBEAT, `${Date.now()}\n`);
        if (!waitingSaid) {
          log('no entries table yet: waiting for the migrate job');
          waitingSaid = true;
        }
      } else if (err.message !== lastError) {
        // Once per new error, not twice a second while the database is away.
        log(`round failed: ${err.message}`);
      }
      lastError = err.message;
    }
    if (!done) {
      await sleep(500);
    }
  }
  await watching;
  await new Promise((resolve) => server.close(resolve));
  await db.end();
  log('stopped');
}

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => { stopping = true; });
}

main().catch((err) => {
  log(`failed: ${err.message}`);
  process.exit(1);
});
