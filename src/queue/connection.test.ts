import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../core/index.js';
import { parseRedisUrl, redactRedisUrl } from './connection.js';

test('parseRedisUrl: host, port, db, user and password from the URL; TLS for rediss', () => {
  const plain = parseRedisUrl('redis://queue.example:6380/2', {});
  assert.deepEqual(plain.connection, { host: 'queue.example', port: 6380, db: 2 });
  const tls = parseRedisUrl('rediss://worker:s%40cret@queue.example', {});
  assert.deepEqual(tls.connection, {
    host: 'queue.example',
    port: 6379,
    db: 0,
    username: 'worker',
    password: 's@cret',
    tls: { servername: 'queue.example' },
  });
  assert.equal(tls.displayUrl, 'rediss://worker:***@queue.example');
});

test('parseRedisUrl: the password comes from CODELOOP_REDIS_PASSWORD when the URL has none', () => {
  const target = parseRedisUrl('redis://127.0.0.1:7000', { CODELOOP_REDIS_PASSWORD: 'from-env' });
  assert.equal(target.connection.password, 'from-env');
  assert.equal(target.displayUrl, 'redis://127.0.0.1:7000');
  assert.equal(parseRedisUrl('redis://:inurl@h', { CODELOOP_REDIS_PASSWORD: 'env' }).connection.password, 'inurl');
});

test('parseRedisUrl: bad URLs are usage errors that name the (redacted) URL and the form to use', () => {
  assert.throws(() => parseRedisUrl('http://h:1', {}), UsageError);
  assert.throws(() => parseRedisUrl('http://h:1', {}), /Redis URL http:\/\/h:1 has scheme "http": use redis:\/\//);
  assert.throws(() => parseRedisUrl('localhost:6379', {}), /scheme "localhost"/);
  assert.throws(() => parseRedisUrl('redis://h/99', {}), /database "99" is not a number from 0 to 15/);
  assert.throws(() => parseRedisUrl('not a url :pw@', {}), /is not a URL/);
  assert.equal(redactRedisUrl('redis://u:secret@h:1/0'), 'redis://u:***@h:1/0');
});
