/**
 * The training corpus: permissively licensed TypeScript/JavaScript and Python source that exists on every machine
 * that has run `npm ci` in this repo (its node_modules), Node's bundled npm, and Python's standard library. Files are
 * filtered (extension, size, minified/generated, binary), deduplicated (exact: sha256 of the content; near: MinHash
 * over 5-word shingles with LSH), and whole files are held out for evaluation, chosen by their content hash so the
 * split is the same on every machine. Writes documents.jsonl, manifest.json (every package, version, license, file
 * count, bytes) and NOTICE. Never reads evaluation data: only the roots listed here.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync, mkdirSync, type Dirent } from 'node:fs';
import { join, relative, basename } from 'node:path';

export type CorpusLanguage = 'typescript' | 'javascript' | 'python';

export interface CorpusDocument {
  /** `package@version:relative/path` */
  id: string;
  package: string;
  language: CorpusLanguage;
  split: 'train' | 'heldout';
  text: string;
}

export interface CorpusSource {
  /** Directory to walk. */
  root: string;
  /** `npm`: packages found by their package.json (nested node_modules included). `python-stdlib`: one package. */
  kind: 'npm' | 'python-stdlib';
}

export interface BuildCorpusOptions {
  sources: CorpusSource[];
  /** Fraction of files held out for evaluation, by content hash. */
  heldOutFraction: number;
  /** Files larger than this are skipped (bytes). */
  maxFileBytes: number;
  /** Near-duplicate threshold on estimated Jaccard similarity of 5-word shingle sets. */
  nearDuplicateJaccard: number;
  /** Packages never used (data-only or generated content), by name. */
  excludePackages: readonly string[];
  /** Files never used, as `package/relative/path` (twins of files already included). */
  excludeFiles: readonly string[];
}

export interface CorpusPackageEntry {
  name: string;
  version: string;
  license: string;
  source: string;
  files: number;
  bytes: number;
  heldOutFiles: number;
}

export interface CorpusManifest {
  dedupe: string;
  filters: string;
  heldOutRule: string;
  sources: CorpusSource[];
  packages: CorpusPackageEntry[];
  excludedPackages: { name: string; version: string; license: string; reason: string }[];
  dropped: Record<string, number>;
  totals: {
    files: number;
    bytes: number;
    byLanguage: Record<string, { files: number; bytes: number }>;
    heldOut: { files: number; bytes: number; byLanguage: Record<string, { files: number; bytes: number }> };
  };
}

/**
 * Licenses that allow use and redistribution with attribution only. Artistic-2.0 (npm's own code) is OSI- and
 * FSF-approved and GPL-compatible, with no copyleft on use; it is listed in the NOTICE like the rest.
 */
const PERMISSIVE = new Set([
  'MIT',
  'ISC',
  'Apache-2.0',
  'BSD-2-Clause',
  'BSD-3-Clause',
  'BlueOak-1.0.0',
  '0BSD',
  'CC0-1.0',
  'Unlicense',
  'PSF-2.0',
  'Python-2.0',
  'MIT-0',
  'Artistic-2.0',
]);

/** Non-SPDX spellings seen in package.json files. */
const LICENSE_ALIASES: Record<string, string> = {
  'Apache 2.0': 'Apache-2.0',
  Apache2: 'Apache-2.0',
  BSD: 'BSD-3-Clause',
};

/** True when an SPDX expression allows permissive use: every AND term, and some alternative of each OR. */
export function isPermissiveLicense(expression: string): boolean {
  const normalized = LICENSE_ALIASES[expression.trim()] ?? expression;
  const cleaned = normalized.replace(/[()]/g, ' ').trim();
  if (cleaned === '') return false;
  return cleaned.split(/\s+AND\s+/).every((term) => term.split(/\s+OR\s+/).some((id) => PERMISSIVE.has(id.trim())));
}

function packageLicense(json: Record<string, unknown>): string {
  const license = json['license'];
  if (typeof license === 'string') return license;
  if (license && typeof license === 'object' && typeof (license as { type?: unknown }).type === 'string')
    return (license as { type: string }).type;
  const licenses = json['licenses'];
  if (Array.isArray(licenses))
    return licenses
      .map((entry) => (typeof entry === 'string' ? entry : ((entry as { type?: string }).type ?? '')))
      .join(' OR ');
  return 'UNKNOWN';
}

export function languageOf(path: string): CorpusLanguage | undefined {
  if (/\.(d\.)?[mc]?ts$/.test(path)) return 'typescript';
  if (/\.[mc]?js$/.test(path)) return 'javascript';
  if (/\.py$/.test(path)) return 'python';
  return undefined;
}

/** Why a file's text is unusable as training code, or undefined when it is fine. */
export function rejectReason(path: string, text: string): string | undefined {
  if (/\.min\.[cm]?js$/.test(path)) return 'minified';
  if (text.includes('\u0000')) return 'binary';
  if (text.trim().length < 64) return 'tiny';
  const lines = text.split('\n');
  const longChars = lines.reduce((sum, line) => sum + (line.length > 400 ? line.length : 0), 0);
  if (text.length / lines.length > 100 || longChars > 0.1 * text.length) return 'minified';
  if (/@generated|auto-?generated|do not edit|generated by|this file was generated/i.test(text.slice(0, 1000)))
    return 'generated';
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// MinHash near-duplicate detection

const MINHASH_PERMUTATIONS = 64;
const LSH_BANDS = 16; // 16 bands × 4 rows: pairs at Jaccard 0.85 collide in some band with p ≈ 1 − (1 − 0.85⁴)¹⁶ > 0.9999

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const PERMUTATION_SEEDS = Array.from(
  { length: MINHASH_PERMUTATIONS },
  (_, i) => [Math.imul(i + 1, 0x9e3779b1) | 1, Math.imul(i + 7, 0x85ebca6b)] as const,
);

/** MinHash signature over 5-word shingles (words = maximal non-whitespace runs). */
export function minHashSignature(text: string): Uint32Array {
  const words = text.split(/\s+/).filter(Boolean);
  const signature = new Uint32Array(MINHASH_PERMUTATIONS).fill(0xffffffff);
  for (let i = 0; i + 5 <= Math.max(words.length, 5); i++) {
    const h = fnv1a(words.slice(i, i + 5).join(' '));
    for (let p = 0; p < MINHASH_PERMUTATIONS; p++) {
      const [a, b] = PERMUTATION_SEEDS[p]!;
      let x = (Math.imul(h, a) + b) >>> 0;
      x ^= x >>> 15;
      x = Math.imul(x, 0x2c1b3c6d) >>> 0;
      if (x < signature[p]!) signature[p] = x;
    }
  }
  return signature;
}

export function estimatedJaccard(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/** Fraction in [0, 1) from a content hash: the held-out rule. */
export function hashFraction(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32;
}

// ---------------------------------------------------------------------------------------------------------------

interface Candidate {
  packageKey: string;
  relativePath: string;
  language: CorpusLanguage;
  text: string;
}

interface PackageInfo {
  name: string;
  version: string;
  license: string;
  source: string;
}

function walkNpm(
  root: string,
  onPackage: (info: PackageInfo, dir: string) => void,
  onFile: (info: PackageInfo, dir: string, path: string) => void,
  dropped: Record<string, number>,
): void {
  const visit = (dir: string, current: PackageInfo | undefined, packageDir: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    let info = current;
    let infoDir = packageDir;
    if (entries.some((entry) => entry.name === 'package.json' && entry.isFile())) {
      try {
        const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
        if (typeof json['name'] === 'string' && typeof json['version'] === 'string') {
          info = { name: json['name'], version: json['version'], license: packageLicense(json), source: root };
          infoDir = dir;
          onPackage(info, dir);
        }
      } catch {
        dropped['unreadable-package-json'] = (dropped['unreadable-package-json'] ?? 0) + 1;
      }
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (entry.name === '.bin' || entry.name === '.git' || entry.name === '.cache') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path, info, infoDir);
      else if (entry.isFile() && info) onFile(info, infoDir, path);
    }
  };
  visit(root, undefined, root);
}

function pythonVersion(root: string): string {
  const match = /python(\d+\.\d+)/.exec(basename(root));
  return match?.[1] ?? 'unknown';
}

/** Walks the sources, filters, dedupes and splits; writes documents.jsonl, manifest.json and NOTICE into `outDir`. */
export function buildCorpus(outDir: string, options: BuildCorpusOptions): CorpusManifest {
  const dropped: Record<string, number> = {};
  const drop = (reason: string): void => {
    dropped[reason] = (dropped[reason] ?? 0) + 1;
  };
  const packages = new Map<string, PackageInfo>();
  const excludedPackages = new Map<string, { name: string; version: string; license: string; reason: string }>();
  const candidates: Candidate[] = [];
  const usable = (info: PackageInfo): boolean => {
    const key = `${info.name}@${info.version}`;
    if (options.excludePackages.includes(info.name)) {
      excludedPackages.set(key, { ...info, reason: 'data-only or generated package' });
      return false;
    }
    if (!isPermissiveLicense(info.license)) {
      excludedPackages.set(key, { ...info, reason: `license ${info.license} is not on the permissive list` });
      return false;
    }
    return true;
  };
  const consider = (info: PackageInfo, packageDir: string, path: string): void => {
    const language = languageOf(path);
    if (!language) return;
    const relativePath = relative(packageDir, path);
    if (options.excludeFiles.includes(`${info.name}/${relativePath}`)) return drop('excluded-file');
    if (!usable(info)) return drop('excluded-package');
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return drop('unreadable');
    }
    if (size > options.maxFileBytes) return drop('too-large');
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(path));
    } catch {
      return drop('not-utf8');
    }
    const reason = rejectReason(path, text);
    if (reason) return drop(reason);
    const packageKey = `${info.name}@${info.version}`;
    packages.set(packageKey, info);
    candidates.push({ packageKey, relativePath, language, text });
  };

  for (const source of options.sources) {
    if (source.kind === 'npm') {
      walkNpm(source.root, () => {}, consider, dropped);
    } else {
      const info: PackageInfo = {
        name: 'python-stdlib',
        version: pythonVersion(source.root),
        license: 'PSF-2.0',
        source: source.root,
      };
      const visit = (dir: string): void => {
        for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
          if (entry.isDirectory()) {
            if (
              /^(__pycache__|test|tests|idle_test|site-packages|dist-packages|config-.*|lib-dynload)$/.test(entry.name)
            )
              continue;
            visit(join(dir, entry.name));
          } else if (entry.isFile()) consider(info, source.root, join(dir, entry.name));
        }
      };
      visit(source.root);
    }
  }

  // Exact, then near-duplicate removal, in walk order (the first copy wins).
  const seen = new Set<string>();
  const buckets = new Map<string, number[]>();
  const signatures: Uint32Array[] = [];
  const kept: Candidate[] = [];
  for (const candidate of candidates) {
    const digest = createHash('sha256').update(candidate.text).digest('hex');
    if (seen.has(digest)) {
      drop('exact-duplicate');
      continue;
    }
    seen.add(digest);
    const signature = minHashSignature(candidate.text);
    const rows = MINHASH_PERMUTATIONS / LSH_BANDS;
    const keys: string[] = [];
    let duplicate = false;
    for (let band = 0; band < LSH_BANDS && !duplicate; band++) {
      const key = `${band}:${Array.from(signature.subarray(band * rows, (band + 1) * rows)).join(',')}`;
      keys.push(key);
      for (const other of buckets.get(key) ?? []) {
        if (estimatedJaccard(signature, signatures[other]!) >= options.nearDuplicateJaccard) {
          duplicate = true;
          break;
        }
      }
    }
    if (duplicate) {
      drop('near-duplicate');
      continue;
    }
    const index = signatures.length;
    signatures.push(signature);
    for (const key of keys) {
      const bucket = buckets.get(key);
      if (bucket) bucket.push(index);
      else buckets.set(key, [index]);
    }
    kept.push(candidate);
  }

  mkdirSync(outDir, { recursive: true });
  const lines: string[] = [];
  const entries = new Map<string, CorpusPackageEntry>();
  const emptyTotals = () => ({
    files: 0,
    bytes: 0,
    byLanguage: {} as Record<string, { files: number; bytes: number }>,
  });
  const totals = emptyTotals();
  const heldOut = emptyTotals();
  const count = (bucket: ReturnType<typeof emptyTotals>, language: string, bytes: number): void => {
    bucket.files++;
    bucket.bytes += bytes;
    const entry = (bucket.byLanguage[language] ??= { files: 0, bytes: 0 });
    entry.files++;
    entry.bytes += bytes;
  };
  for (const candidate of kept) {
    const info = packages.get(candidate.packageKey)!;
    const split = hashFraction(candidate.text) < options.heldOutFraction ? 'heldout' : 'train';
    const document: CorpusDocument = {
      id: `${candidate.packageKey}:${candidate.relativePath}`,
      package: candidate.packageKey,
      language: candidate.language,
      split,
      text: candidate.text,
    };
    lines.push(JSON.stringify(document));
    const bytes = Buffer.byteLength(candidate.text);
    const entry = entries.get(candidate.packageKey) ?? {
      name: info.name,
      version: info.version,
      license: info.license,
      source: info.source,
      files: 0,
      bytes: 0,
      heldOutFiles: 0,
    };
    entry.files++;
    entry.bytes += bytes;
    if (split === 'heldout') entry.heldOutFiles++;
    entries.set(candidate.packageKey, entry);
    count(totals, candidate.language, bytes);
    if (split === 'heldout') count(heldOut, candidate.language, bytes);
  }
  writeFileSync(join(outDir, 'documents.jsonl'), lines.join('\n') + '\n');
  const manifest: CorpusManifest = {
    dedupe: `exact: sha256 of file content; near: MinHash (${MINHASH_PERMUTATIONS} permutations) over 5-word shingles, LSH ${LSH_BANDS} bands, dropped at estimated Jaccard >= ${options.nearDuplicateJaccard}; the first file in walk order is kept`,
    filters: `extensions .ts/.d.ts/.mts/.cts/.js/.mjs/.cjs/.py; <= ${options.maxFileBytes} bytes; UTF-8; not minified (.min.js, mean line > 100 chars, or > 10% of chars on lines > 400 chars); no generated-file marker in the first 1000 chars; permissive license`,
    heldOutRule: `held out when the first 4 bytes of sha256(content) / 2^32 < ${options.heldOutFraction}`,
    sources: options.sources,
    packages: [...entries.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
    excludedPackages: [...excludedPackages.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
    dropped,
    totals: { ...totals, heldOut },
  };
  writeFileSync(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  writeFileSync(join(outDir, 'NOTICE'), corpusNotice(manifest));
  return manifest;
}

/** The NOTICE for the corpus (and for models trained on it): every package, version and license. */
export function corpusNotice(manifest: CorpusManifest): string {
  return [
    'codeloop embedded model: training corpus',
    '',
    'The model was trained on source files from the following packages, each under the license shown (SPDX).',
    'Copyright remains with their authors; see each package for its full license text and NOTICE files',
    '(Apache-2.0 packages such as typescript ship one).',
    '',
    ...manifest.packages.map(
      (entry) => `${entry.name}@${entry.version}  ${entry.license}  (${entry.files} files, ${entry.bytes} bytes)`,
    ),
    '',
  ].join('\n');
}

export function readCorpus(dir: string): CorpusDocument[] {
  return readFileSync(join(dir, 'documents.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as CorpusDocument);
}
