'use strict';
// The job: create the schema and the first entry. Safe to run again (Compose runs it
// once per fresh volume; Kubernetes runs it as a Job on every deploy).
const { pool, waitFor, log } = require('./lib/db');

const SCHEMA = `
CREATE TABLE IF NOT EXISTS entries (
  id           BIGSERIAL PRIMARY KEY,
  name         TEXT NOT NULL,
  message      TEXT NOT NULL,
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  words        INTEGER,
  processed_at TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS entries_pending ON entries (id) WHERE processed_at IS NULL;
`;

const SEED = `
INSERT INTO entries (name, message)
SELECT 'guestbook', 'Welcome! This entry was written by the migrate job.'
WHERE NOT EXISTS (SELECT 1 FROM entries)
`;

async function main() {
  const db = pool();
  try {
    await waitFor(db, 60);
    await db.query(SCHEMA);
    const seeded = await db.query(SEED);
    log(`schema ready; ${seeded.rowCount ? 'seeded the first entry' : 'entries already present'}`);
  } finally {
    await db.end();
  }
}

main().catch((err) => {
  log(`failed: ${err.message}`);
  process.exit(1);
});
