/**
 * Stop sequences enforced on the client side. Servers differ: some include the stop string in the text, some ignore
 * stop lists longer than they allow (OpenAI: 4), a rendered FIM format adds its own stop strings. Every backend runs
 * its text through these so that `stop` means the same everywhere: the text ends before the first stop string.
 */

export interface StopCut {
  /** The text up to (not including) the first stop string, or all of it. */
  text: string;
  /** The stop string found, if any. */
  stopSequence?: string;
}

/** Drops empty strings (an empty stop would end every generation at once) and duplicates. */
export function normalizeStops(stops: readonly string[] | undefined): string[] {
  return [...new Set((stops ?? []).filter((stop) => stop !== ''))];
}

/** The earliest occurrence of any stop in `text`; at the same index the longer stop wins. */
function findStop(text: string, stops: readonly string[]): { index: number; stop: string } | undefined {
  let best: { index: number; stop: string } | undefined;
  for (const stop of stops) {
    const index = text.indexOf(stop);
    if (index === -1) continue;
    if (best === undefined || index < best.index || (index === best.index && stop.length > best.stop.length))
      best = { index, stop };
  }
  return best;
}

/** Cuts a whole text at its first stop string. */
export function cutAtStop(text: string, stops: readonly string[] | undefined): StopCut {
  const found = findStop(text, normalizeStops(stops));
  return found === undefined ? { text } : { text: text.slice(0, found.index), stopSequence: found.stop };
}

export interface StopCutter {
  /**
   * Adds streamed text; returns the text that is safe to emit now (it cannot be the start of a stop string), and the
   * stop string once one is complete (then nothing after it is ever emitted).
   */
  push(delta: string): StopCut;
  /** The text held back at the end of the stream (a stop string that never completed). */
  flush(): string;
  /** Whether a stop string has been seen. */
  readonly stopped: boolean;
}

/**
 * Cuts a stream at its first stop string. Text that could be the beginning of a stop string is held back until the
 * next delta shows whether it is, so a stop string split across chunks ("\nde" + "f ") is still found and never
 * partly emitted.
 */
export function createStopCutter(stops: readonly string[] | undefined): StopCutter {
  const list = normalizeStops(stops);
  let held = '';
  let stopped = false;
  return {
    get stopped() {
      return stopped;
    },
    push(delta) {
      if (stopped) return { text: '' };
      const buffer = held + delta;
      const found = findStop(buffer, list);
      if (found !== undefined) {
        stopped = true;
        held = '';
        return { text: buffer.slice(0, found.index), stopSequence: found.stop };
      }
      // Hold back the longest tail of the buffer that is a proper prefix of some stop string.
      let keep = 0;
      for (const stop of list) {
        for (let length = Math.min(stop.length - 1, buffer.length); length > keep; length--) {
          if (buffer.endsWith(stop.slice(0, length))) {
            keep = length;
            break;
          }
        }
      }
      held = buffer.slice(buffer.length - keep);
      return { text: buffer.slice(0, buffer.length - keep) };
    },
    flush() {
      const rest = stopped ? '' : held;
      held = '';
      return rest;
    },
  };
}
