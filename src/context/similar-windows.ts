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

const NOISE = new Set(['the', 'and', 'for', 'def', 'var', 'let', 'const', 'return', 'self', 'this', 'function', 'import', 'from', 'export', 'new', 'None', 'True', 'False', 'null', 'true', 'false', 'undefined']);

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let shared = 0;
  for (const word of small) if (large.has(word)) shared += 1;
  return shared / (a.size + b.size - shared);
}

/** Best windows of `files` for `cursorWindow`, highest score first (ties: path, then line, so the order is stable). */
export function rankSimilarWindows(cursorWindow: string, files: readonly SourceFile[], options: SimilarWindowsOptions = {}): SimilarWindow[] {
  const { windowLines = 20, perFile = 1, minScore = 0.1 } = options;
  const strideLines = options.strideLines ?? Math.max(1, Math.floor(windowLines / 2));
  const target = identifierSet(cursorWindow);
  const found: SimilarWindow[] = [];
  for (const file of files) {
    const lines = file.text.split('\n');
    const candidates: SimilarWindow[] = [];
    for (let start = 0; start < lines.length; start += strideLines) {
      const end = Math.min(lines.length, start + windowLines);
      const text = lines.slice(start, end).join('\n');
      const score = jaccard(target, identifierSet(text));
      if (score >= minScore) candidates.push({ path: file.path, startLine: start, endLine: end, text, score });
      if (end === lines.length) break;
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
