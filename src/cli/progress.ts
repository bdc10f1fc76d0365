/**
 * Progress of a run through a reporter of optional hooks (vitest's reporters): `codeloop eval` calls them, and so can
 * any other command that scores or generates samples one at a time.
 */
export interface ProgressReporter {
  onRunStart?(info: { label: string; total: number }): void;
  /** One per finished sample; `verdict === 'passed'` counts as a pass; `tokens` adds to a token count. */
  onSampleResult?(result: { verdict?: string; tokens?: number }): void;
  onRunEnd?(): void;
}

/** Where progress goes: `process.stderr`, or a test's stream. A live bar is drawn only when `isTTY` is true. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  /** Terminal width in characters; default (also when 0, as in a pseudo-terminal without a size) 80. */
  columns?: number;
}

export interface ProgressReporterOptions {
  /** Start of every line, e.g. "codeloop eval". */
  prefix: string;
  /** On a TTY: least time between two redraws of the bar (ms); default 100, i.e. at most ten a second. */
  redrawIntervalMs?: number;
  /** Not on a TTY: time between two progress lines (ms); default 5000. */
  lineIntervalMs?: number;
  /** Clock (ms), for tests; default `Date.now`. */
  now?: () => number;
  /** What the run counts besides samples done: passes (scoring, the default) or tokens generated (generation). */
  counts?: 'passes' | 'tokens';
  /** Extra figures for the end of each frame and line, e.g. a job queue's depth and workers; undefined adds nothing. */
  status?: () => string | undefined;
}

/** Redraw the bar at least this often (ms) while nothing finishes, so the rate and ETA keep moving. */
const IDLE_REDRAW_MS = 1_000;
/** ANSI "erase to end of line". */
const ERASE_LINE_END = '\u001b[K';

/** 75 s → "1:15", 3725 s → "1:02:05". */
export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = String(whole % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}

/**
 * One frame of the bar for `columns` characters: `prefix: label [####----] 12/24 50% 3.2/s ETA 0:04 12 passed`
 * (`… 530 tokens` with `counted: 'tokens'`, where `passed` holds the token count).
 */
export function progressFrame(
  state: {
    prefix: string;
    label: string;
    done: number;
    total: number;
    passed: number;
    elapsedMs: number;
    counted?: 'passed' | 'tokens';
  },
  columns: number,
): string {
  const { prefix, label, done, total, passed, elapsedMs, counted = 'passed' } = state;
  const seconds = elapsedMs / 1000;
  const rate = seconds > 0 ? done / seconds : 0;
  const eta = done === 0 || rate === 0 ? '--' : formatDuration((total - done) / rate);
  const share = total === 0 ? 1 : done / total;
  const head = `${prefix}: ${label} `;
  const tail = ` ${done}/${total} ${Math.floor(share * 100)}% ${rate.toFixed(1)}/s ETA ${eta} ${passed} ${counted}`;
  // The bar's width is fixed for the run (from the longest tail it can have), so it does not jump as figures grow: it
  // takes what is left of the line (one column spare, so the cursor never wraps), 10 to 40 cells.
  // A token count has no bound: room for 1,000 tokens a sample.
  const longestTail =
    ` ${total}/${total} 100% 99999.9/s ETA 99:59:59 ${counted === 'tokens' ? total * 1000 : total} ${counted}`.length;
  const room = columns - 1 - head.length - longestTail - 2;
  if (room < 10) return `${head}${tail.trimStart()}`.slice(0, Math.max(0, columns - 1));
  const width = Math.min(40, room);
  const filled = Math.round(share * width);
  return `${head}[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${tail}`;
}

/**
 * A reporter that draws a live bar (done/total, rate, ETA, passes) on a TTY, redrawn in place at most every
 * `redrawIntervalMs`, and on anything else writes a plain line every `lineIntervalMs` (logs and CI stay readable).
 */
export function createProgressReporter(
  stream: ProgressStream,
  options: ProgressReporterOptions,
): Required<ProgressReporter> {
  const { prefix, redrawIntervalMs = 100, lineIntervalMs = 5_000, now = Date.now, counts = 'passes', status } = options;
  const counted = counts === 'tokens' ? 'tokens' : 'passed';
  const live = stream.isTTY === true;
  let label = '';
  let total = 0;
  let done = 0;
  let passed = 0;
  let started = 0;
  let lastDraw = 0;
  let dirty = false;
  let timer: ReturnType<typeof setInterval> | undefined;

  const draw = (): void => {
    lastDraw = now();
    dirty = false;
    const extra = status?.();
    const columns = stream.columns || 80;
    const frame = progressFrame(
      { prefix, label, done, total, passed, elapsedMs: lastDraw - started, counted },
      extra === undefined ? columns : Math.max(20, columns - extra.length - 3),
    );
    stream.write(`\r${frame}${extra === undefined ? '' : ` | ${extra}`}${ERASE_LINE_END}`);
  };
  const statusText = (): string => {
    const extra = status?.();
    return extra === undefined ? '' : `; ${extra}`;
  };
  const line = (): void => {
    const seconds = (now() - started) / 1000;
    const rate = (value: number): string => (seconds > 0 ? value / seconds : 0).toFixed(1);
    stream.write(
      counts === 'tokens'
        ? `${prefix}: ${label}: ${done}/${total} samples generated, ${passed} tokens (${rate(done)} samples/s, ${rate(passed)} tokens/s, ${seconds.toFixed(0)} s)\n`
        : `${prefix}: ${label}: ${done}/${total} samples scored, ${passed} passed (${rate(done)}/s, ${seconds.toFixed(0)} s)${statusText()}\n`,
    );
  };

  return {
    onRunStart(info) {
      ({ label, total } = info);
      done = 0;
      passed = 0;
      started = now();
      if (timer !== undefined) clearInterval(timer);
      if (live) {
        draw();
        // Samples only mark the bar dirty; this tick draws it, so bursts of results cost one frame per interval.
        timer = setInterval(() => {
          if (dirty || now() - lastDraw >= IDLE_REDRAW_MS) draw();
        }, redrawIntervalMs);
      } else {
        timer = setInterval(line, lineIntervalMs);
      }
      timer.unref();
    },
    onSampleResult(result) {
      done++;
      if (counts === 'tokens') passed += result.tokens ?? 0;
      else if (result.verdict === 'passed') passed++;
      dirty = true;
    },
    onRunEnd() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      // The last frame stays on screen, finished, and the next output starts on a line of its own. Off a terminal,
      // a generation run ends with its figures (a scoring run's caller prints its own summary).
      if (live) {
        draw();
        stream.write('\n');
      } else if (counts === 'tokens') {
        line();
      }
    },
  };
}
