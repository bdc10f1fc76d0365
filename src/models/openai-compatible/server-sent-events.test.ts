import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseServerSentEvents, type ServerSentEvent } from './server-sent-events.js';

async function parse(chunks: (string | Uint8Array)[]): Promise<ServerSentEvent[]> {
  const encoder = new TextEncoder();
  async function* body(): AsyncGenerator<Uint8Array> {
    for (const chunk of chunks) yield typeof chunk === 'string' ? encoder.encode(chunk) : chunk;
  }
  const events: ServerSentEvent[] = [];
  for await (const event of parseServerSentEvents(body())) events.push(event);
  return events;
}

test('data lines, comments, event and id fields, [DONE]', async () => {
  const text = ': ping\n\ndata: {"a":1}\n\nevent: error\nid: 7\ndata: {"b":2}\n\ndata: [DONE]\n\n';
  // The last event id carries over to later events, as the spec says; the event type does not.
  assert.deepEqual(await parse([text]), [
    { data: '{"a":1}' },
    { event: 'error', id: '7', data: '{"b":2}' },
    { id: '7', data: '[DONE]' },
  ]);
});

test('multi-line data is joined with newlines; a field without a space or value is read as the spec says', async () => {
  assert.deepEqual(await parse(['data:first\ndata:  second\ndata\n\n']), [{ data: 'first\n second\n' }]);
});

test('CRLF and CR line ends, also split across chunks, and a BOM', async () => {
  assert.deepEqual(await parse(['\uFEFFdata: x\r', '\n\r', '\ndata: y\r\r']), [{ data: 'x' }, { data: 'y' }]);
});

test('a stream split at every byte gives the same events, UTF-8 included', async () => {
  const text = 'data: {"text":"héllo ✓ 𝄞"}\n\n: keep-alive\r\ndata: b\r\n\r\ndata: [DONE]\n\n';
  const bytes = new TextEncoder().encode(text);
  const whole = await parse([text]);
  assert.equal(whole.length, 3);
  const split = await parse(Array.from(bytes, (byte) => new Uint8Array([byte])));
  assert.deepEqual(split, whole);
});

test('a last event without the closing blank line is kept; a blank-only or comment-only stream gives nothing', async () => {
  assert.deepEqual(await parse(['data: {"done":true}']), [{ data: '{"done":true}' }]);
  assert.deepEqual(await parse(['\n\n: only a comment\n\n']), []);
  assert.deepEqual(await parse(['event: x\n\n']), [], 'an event with no data is not dispatched');
});
