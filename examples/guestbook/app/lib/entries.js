'use strict';
// What the guestbook knows without a database: input checks and the worker's
// summary. Pure functions, so the unit tests need no server.

const MAX_NAME = 80;
const MAX_MESSAGE = 2000;

class InputError extends Error {}

// A POST /entries body -> {name, message}, or an InputError saying what is wrong.
function parseEntry(body) {
  let data;
  try {
    data = JSON.parse(body);
  } catch (err) {
    throw new InputError('the body is not JSON');
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new InputError('the body must be a JSON object with "name" and "message"');
  }
  const name = typeof data.name === 'string' ? data.name.trim() : '';
  const message = typeof data.message === 'string' ? data.message.trim() : '';
  if (!name || name.length > MAX_NAME) {
    throw new InputError(`"name" must be text of 1 to ${MAX_NAME} characters`);
  }
  if (!message || message.length > MAX_MESSAGE) {
    throw new InputError(`"message" must be text of 1 to ${MAX_MESSAGE} characters`);
  }
  return { name, message };
}

// What the worker computes for an entry: its word count.
function summarize(message) {
  const words = message.split(/\s+/).filter((word) => word.length > 0);
  return { words: words.length };
}

// "postgres:5432" -> {host, port}: the stack hands each service one endpoint per database.
function splitAddress(address) {
  const match = /^(.+):(\d+)$/.exec(address || '');
  if (!match) {
    throw new Error(`DATABASE_ADDR must be host:port, got ${JSON.stringify(address)}`);
  }
  return { host: match[1], port: Number(match[2]) };
}

// The api's route of a URL path, the `route` label of its metrics: one of a fixed few, so an
// entry's id never makes a series of its own.
function routeOf(pathname) {
  if (pathname === '/healthz' || pathname === '/entries') {
    return pathname;
  }
  return /^\/entries\/[^/]+$/.test(pathname) ? '/entries/:id' : 'other';
}

module.exports = { InputError, parseEntry, summarize, splitAddress, routeOf, MAX_NAME, MAX_MESSAGE };
