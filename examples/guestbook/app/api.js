'use strict';
// The HTTP API, answered from PostgreSQL:
//   GET  /healthz        200 when the database answers, else 503
//   GET  /entries        the newest 50 entries
//   POST /entries        {"name": ..., "message": ...} -> 201 {"id": ...}
//   GET  /entries/<id>   one entry; "words" is null until the worker has processed it
//   GET  /metrics        Prometheus metrics of the above (lib/metrics.js)
const http = require('http');
const { pool, log } = require('./lib/db');
const { InputError, parseEntry, routeOf } = require('./lib/entries');
const { Registry } = require('./lib/metrics');

const PORT = Number(process.env.PORT || 8080);
const MAX_BODY = 16 * 1024;
const COLUMNS = 'id, name, message, words, created_at, processed_at';
const db = pool();
const metrics = new Registry();

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new InputError(`the body is larger than ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function route(req, res) {
  const url = new URL(req.url, 'http://localhost');
  const one = /^\/entries\/(\d{1,18})$/.exec(url.pathname);
  if (url.pathname === '/healthz' && req.method === 'GET') {
    try {
      await db.query('SELECT 1');
      return send(res, 200, { status: 'ok' });
    } catch (err) {
      return send(res, 503, { status: 'down', error: err.message });
    }
  }
  if (url.pathname === '/entries' && req.method === 'GET') {
    const result = await db.query(`SELECT ${COLUMNS} FROM entries ORDER BY id DESC LIMIT 50`);
    return send(res, 200, { entries: result.rows });
  }
  if (url.pathname === '/entries' && req.method === 'POST') {
    const entry = parseEntry(await readBody(req));
    const result = await db.query('INSERT INTO entries (name, message) VALUES ($1, $2) RETURNING id',
      [entry.name, entry.message]);
    return send(res, 201, { id: result.rows[0].id });
  }
  if (one && req.method === 'GET') {
    const result = await db.query(`SELECT ${COLUMNS} FROM entries WHERE id = $1`, [one[1]]);
    return result.rowCount ? send(res, 200, result.rows[0]) : send(res, 404, { error: 'no such entry' });
  }
  return send(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
}

function answer(req, res) {
  route(req, res).catch((err) => {
    if (err instanceof InputError) {
      return send(res, 400, { error: err.message });
    }
    log(`${req.method} ${req.url} failed: ${err.message}`);
    return send(res, 503, { error: 'the database did not answer' });
  });
}

const server = http.createServer(metrics.instrument(answer,
  (req) => routeOf(new URL(req.url, 'http://localhost').pathname)));

server.listen(PORT, () => log(`listening on ${PORT}`));

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => db.end().then(() => process.exit(0)));
  });
}
