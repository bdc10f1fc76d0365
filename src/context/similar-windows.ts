/**
 * Windows of other files most like the code around the cursor, by Jaccard similarity of their identifier sets (the
 * "neighboring tabs" idea Copilot uses: best window per file, a few files). Identifiers rather than all tokens, so
 * punctuation-heavy windows do not look alike just for sharing brackets.
 */

export interface SourceFile {
  /** Repository-relative path (or URI) of the file. */
  path: string;
  text: string;
}

export interface SimilarWindow {
  path: string;
  /** 0-based first line of the window in its file. */
  startLine: number;
  /** 0-based line after the window. */
  endLine: number;
  text: string;
  /** Jaccard similarity in [0, 1] to the cursor window. */
  score: number;
}

export interface SimilarWindowsOptions {
  /** Lines per window. Default 20 (Continue's visited-range radius; Copilot uses 60). */
  windowLines?: number;
  /** Lines between window starts. Default half a window. */
  strideLines?: number;
  /** Windows kept per file (best first, non-overlapping). Default 1. */
  perFile?: number;
  /** Windows below this similarity are dropped. Default 0.1. */
  minScore?: number;
}

const IDENTIFIER = /[A-Za-z_$][A-Za-z0-9_$]*/g;

/** The set of identifiers in `text` (case-sensitive; one- and two-letter names and a few keywords dropped as noise). */
export function identifierSet(text: string): Set<string> {
  const set = new Set<string>();
  for (const match of text.matchAll(IDENTIFIER)) {
    const word = match[0];
    if (word.length > 2 && !NOISE.has(word)) set.add(word);
  }
  return set;
}

const NOISE = new Set([
  'the',
  'and',
  'for',
  'def',
  'var',
  'let',
  'const',
  'return',
  'self',
  'this',
  'function',
  'import',
  'from',
  'export',
  'new',
  'None',
  'True',
  'False',
  'null',
  'true',
  'false',
  'undefined',
]);

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let shared = 0;
  for (const word of small) if (large.has(word)) shared += 1;
  return shared / (a.size + b.size - shared);
}

interface Window {
  startLine: number;
  endLine: number;
  text: string;
  identifiers: Set<string>;
}

/**
 * Windows of files with their identifier sets, kept per path while the text is unchanged: other files rarely change
 * between keystrokes, so each request only scores them.
 */
interface IndexedFile {
  text: string;
  windowLines: number;
  strideLines: number;
  windows: Window[];
  /** identifier → indices of the windows that contain it (an inverted index: scoring touches only shared words). */
  postings: Map<string, number[]>;
}

export class WindowIndex {
  readonly #files = new Map<string, IndexedFile>();

  #indexed(file: SourceFile, windowLines: number, strideLines: number): IndexedFile {
    const hit = this.#files.get(file.path);
    if (
      hit !== undefined &&
      hit.text === file.text &&
      hit.windowLines === windowLines &&
      hit.strideLines === strideLines
    )
      return hit;
    const lines = file.text.split('\n');
    const windows: Window[] = [];
    const postings = new Map<string, number[]>();
    for (let start = 0; start < lines.length; start += strideLines) {
      const end = Math.min(lines.length, start + windowLines);
      const text = lines.slice(start, end).join('\n');
      const identifiers = identifierSet(text);
      for (const word of identifiers) {
        const list = postings.get(word);
        if (list === undefined) postings.set(word, [windows.length]);
        else list.push(windows.length);
      }
      windows.push({ startLine: start, endLine: end, text, identifiers });
      if (end === lines.length) break;
    }
    const indexed = { text: file.text, windowLines, strideLines, windows, postings };
    this.#files.set(file.path, indexed);
    return indexed;
  }

  windows(file: SourceFile, windowLines: number, strideLines: number): Window[] {
    return this.#indexed(file, windowLines, strideLines).windows;
  }

  /** Jaccard similarity of each window sharing at least one identifier with `target` (same result as `jaccard`). */
  scores(
    file: SourceFile,
    target: ReadonlySet<string>,
    windowLines: number,
    strideLines: number,
  ): { window: Window; score: number }[] {
    const { windows, postings } = this.#indexed(file, windowLines, strideLines);
    const shared = new Map<number, number>();
    for (const word of target)
      for (const index of postings.get(word) ?? []) shared.set(index, (shared.get(index) ?? 0) + 1);
    const scored: { window: Window; score: number }[] = [];
    for (const [index, count] of shared) {
      const window = windows[index] as Window;
      scored.push({ window, score: count / (target.size + window.identifiers.size - count) });
    }
    return scored;
  }

  /** Forgets files not in `paths` (closed ones). */
  retain(paths: ReadonlySet<string>): void {
    for (const path of this.#files.keys()) if (!paths.has(path)) this.#files.delete(path);
  }
}

/** Best windows of `files` for `cursorWindow`, highest score first (ties: path, then line, so the order is stable). */
export function rankSimilarWindows(
  cursorWindow: string,
  files: readonly SourceFile[],
  options: SimilarWindowsOptions & { index?: WindowIndex } = {},
): SimilarWindow[] {
  const { windowLines = 20, perFile = 1, minScore = 0.1, index = new WindowIndex() } = options;
  const strideLines = options.strideLines ?? Math.max(1, Math.floor(windowLines / 2));
  const target = identifierSet(cursorWindow);
  const found: SimilarWindow[] = [];
  for (const file of files) {
    const candidates: SimilarWindow[] = [];
    for (const { window, score } of index.scores(file, target, windowLines, strideLines)) {
      if (score >= minScore)
        candidates.push({
          path: file.path,
          startLine: window.startLine,
          endLine: window.endLine,
          text: window.text,
          score,
        });
    }
    candidates.sort((a, b) => b.score - a.score || a.startLine - b.startLine);
    const kept: SimilarWindow[] = [];
    for (const candidate of candidates) {
      if (kept.length >= perFile) break;
      if (kept.some((other) => candidate.startLine < other.endLine && other.startLine < candidate.endLine)) continue;
      kept.push(candidate);
    }
    found.push(...kept);
  }
  return found.sort((a, b) => b.score - a.score || a.path.localeCompare(b.path) || a.startLine - b.startLine);
}
