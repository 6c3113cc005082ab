'use strict';
// One place that knows how to reach PostgreSQL. Debian's node-pg package provides
// `pg` (installed under /usr/share/nodejs, on Node's default search path).
const path = require('path');
const { Pool } = require('pg');
const { splitAddress } = require('./entries');

// DATABASE_ADDR comes from the stack (the database's env_var); PGUSER and PGDATABASE
// from its shared config; the password from the POSTGRES_PASSWORD secret.
function pool() {
  const { host, port } = splitAddress(process.env.DATABASE_ADDR);
  return new Pool({
    host,
    port,
    password: process.env.POSTGRES_PASSWORD,
    max: 4,
    connectionTimeoutMillis: 3000,
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Wait until the database answers (it may still be starting), at most `seconds`.
async function waitFor(db, seconds) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    try {
      await db.query('SELECT 1');
      return;
    } catch (err) {
      if (Date.now() > deadline) {
        throw err;
      }
      log(`database not ready (${err.message}); retrying`);
      await sleep(1000);
    }
  }
}

// One line per event, prefixed with the program (api, worker, migrate).
function log(message) {
  const program = path.basename(process.argv[1] || 'guestbook', '.js');
  process.stdout.write(`${new Date().toISOString()} ${program}: ${message}\n`);
}

module.exports = { pool, waitFor, sleep, log };
