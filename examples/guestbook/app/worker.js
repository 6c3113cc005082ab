'use strict';
// The worker: takes entries nobody has processed yet and stores their word count.
// Several replicas may run: FOR UPDATE SKIP LOCKED hands each entry to one of them.
// No port: its health check (an exec check in stack.yaml) looks at the heartbeat file,
// touched after every successful round trip to the database.
const fs = require('fs');
const { pool, sleep, log } = require('./lib/db');
const { summarize } = require('./lib/entries');

const HEARTBEAT = process.env.HEARTBEAT_FILE || '/tmp/worker.alive';
const BATCH = 10;
// PostgreSQL's SQLSTATE for "relation does not exist".
const UNDEFINED_TABLE = '42P01';
let stopping = false;
let waitingSaid = false;
let lastError = '';

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
    return pending.rowCount;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

async function main() {
  const db = pool();
  log('started');
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
