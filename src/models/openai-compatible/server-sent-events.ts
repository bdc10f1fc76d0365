/**
 * A Server-Sent Events parser (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation)
 * for streamed completions. Servers differ in what they send besides `data:` lines, so the parser follows the spec
 * rather than any one server: `\n`, `\r\n` and `\r` line ends (also split across chunks), comment lines (`: ping`
 * from llama-server's `--sse-ping-interval`, proxies' keep-alives), `event:`/`id:`/`retry:` fields, several `data:`
 * lines joined with `\n`, UTF-8 split anywhere, a BOM, and a last event without the closing blank line (kept, although
 * the spec drops it: some servers close the connection right after their last `data:` line).
 */

export interface ServerSentEvent {
  /** `event:` field; undefined means the default `message`. */
  event?: string;
  data: string;
  id?: string;
}

/** Parses a byte stream (a fetch body) into events. */
export async function* parseServerSentEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder('utf-8');
  let buffer = '';
  let first = true;
  let data: string[] = [];
  let event: string | undefined;
  let id: string | undefined;
  let sawField = false;

  /** Applies one line; returns an event when the line is blank and ends one. */
  const line = (text: string): ServerSentEvent | undefined => {
    if (text === '') {
      const dispatched =
        sawField && data.length > 0
          ? { data: data.join('\n'), ...(event === undefined ? {} : { event }), ...(id === undefined ? {} : { id }) }
          : undefined;
      data = [];
      event = undefined;
      sawField = false;
      return dispatched;
    }
    if (text.startsWith(':')) return undefined; // a comment
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    sawField = true;
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id' && !value.includes('\u0000')) id = value;
    // `retry` and unknown fields are ignored, as the spec says.
    return undefined;
  };

  const drain = function* (final: boolean): Generator<ServerSentEvent> {
    let start = 0;
    for (let index = 0; index < buffer.length; index++) {
      const char = buffer[index];
      if (char !== '\n' && char !== '\r') continue;
      // A `\r` at the very end may be the first half of `\r\n` still in flight: wait for the next chunk.
      if (char === '\r' && index === buffer.length - 1 && !final) break;
      const dispatched = line(buffer.slice(start, index));
      if (char === '\r' && buffer[index + 1] === '\n') index++;
      start = index + 1;
      if (dispatched !== undefined) yield dispatched;
    }
    buffer = buffer.slice(start);
  };

  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    if (first && buffer.length > 0) {
      if (buffer.startsWith('\uFEFF')) buffer = buffer.slice(1);
      first = false;
    }
    yield* drain(false);
  }
  buffer += decoder.decode();
  yield* drain(true);
  // The stream ended without a blank line after the last event: keep what it carried.
  if (buffer !== '') line(buffer);
  const last = line('');
  if (last !== undefined) yield last;
}
