'use strict';
// Unit tests, run by the image build (node --test): no database needed.
const test = require('node:test');
const assert = require('node:assert');
const { InputError, parseEntry, summarize, splitAddress, MAX_NAME } = require('../lib/entries');

test('parseEntry trims and returns name and message', () => {
  assert.deepStrictEqual(parseEntry('{"name": " Ada ", "message": " hello there "}'),
    { name: 'Ada', message: 'hello there' });
});

test('parseEntry refuses what is not a usable entry', () => {
  for (const body of ['not json', '[]', 'null', '{"name": "Ada"}', '{"message": "hi"}',
    '{"name": "", "message": "hi"}', `{"name": "${'x'.repeat(MAX_NAME + 1)}", "message": "hi"}`,
    '{"name": 3, "message": "hi"}']) {
    assert.throws(() => parseEntry(body), InputError, body);
  }
});

test('summarize counts words across any whitespace', () => {
  assert.deepStrictEqual(summarize('one  two\tthree\nfour'), { words: 4 });
  assert.deepStrictEqual(summarize('   '), { words: 0 });
});

test('splitAddress reads host:port', () => {
  assert.deepStrictEqual(splitAddress('postgres:5432'), { host: 'postgres', port: 5432 });
  assert.deepStrictEqual(splitAddress('host.minikube.internal:15432'), { host: 'host.minikube.internal', port: 15432 });
  assert.throws(() => splitAddress('postgres'), /host:port/);
  assert.throws(() => splitAddress(undefined), /host:port/);
});
