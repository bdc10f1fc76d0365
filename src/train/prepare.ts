/**
 * Steps 1–2 of the pipeline in a run directory: the corpus (corpus/), the tokenizer (tokenizer.json) and the token
 * streams (tokens/). Each step is skipped when its output exists, so an interrupted prepare resumes.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCorpus, readCorpus, type CorpusManifest, type CorpusSource } from './corpus.js';
import type { TrainDefaults } from './defaults.js';
import {
  encodeCorpus,
  hasTokenData,
  readTokenizer,
  trainCorpusTokenizer,
  type TokenDataSummary,
} from './token-data.js';

export interface PrepareRunOptions {
  /** Roots to read; default: this checkout's node_modules, Node's bundled npm, Python's standard library. */
  sources?: CorpusSource[];
  /** Encode at most this many bytes of training text (smoke runs). */
  maxTrainBytes?: number;
  onLog?: (message: string) => void;
}

export function defaultCorpusSources(repoRoot: string): CorpusSource[] {
  const sources: CorpusSource[] = [{ root: join(repoRoot, 'node_modules'), kind: 'npm' }];
  if (existsSync('/usr/lib/node_modules/npm')) sources.push({ root: '/usr/lib/node_modules/npm', kind: 'npm' });
  for (const version of ['3.13', '3.12', '3.11', '3.10']) {
    if (existsSync(`/usr/lib/python${version}/os.py`)) {
      sources.push({ root: `/usr/lib/python${version}`, kind: 'python-stdlib' });
      break;
    }
  }
  return sources;
}

export function prepareRun(
  runDir: string,
  defaults: TrainDefaults,
  repoRoot: string,
  options: PrepareRunOptions = {},
): { manifest: CorpusManifest | undefined; tokens: TokenDataSummary | undefined } {
  const log = options.onLog ?? (() => {});
  const corpusDir = join(runDir, 'corpus');
  const tokensDir = join(runDir, 'tokens');
  const tokenizerPath = join(runDir, 'tokenizer.json');
  mkdirSync(tokensDir, { recursive: true });
  let manifest: CorpusManifest | undefined;
  if (!existsSync(join(corpusDir, 'manifest.json'))) {
    log('corpus: walking sources');
    manifest = buildCorpus(corpusDir, {
      sources: options.sources ?? defaultCorpusSources(repoRoot),
      ...defaults.corpus,
    });
    log(
      `corpus: ${manifest.totals.files} files, ${(manifest.totals.bytes / 1e6).toFixed(1)} MB (${manifest.totals.heldOut.files} held out)`,
    );
  }
  const documents = readCorpus(corpusDir);
  if (!existsSync(tokenizerPath)) {
    log(`tokenizer: training ${defaults.tokenizer.vocabSize} tokens`);
    const tokenizer = trainCorpusTokenizer(documents, defaults.tokenizer);
    writeFileSync(tokenizerPath, JSON.stringify(tokenizer.data) + '\n');
  }
  let tokens: TokenDataSummary | undefined;
  if (!hasTokenData(tokensDir)) {
    log('tokens: encoding the corpus');
    tokens = encodeCorpus(
      tokensDir,
      documents,
      readTokenizer(tokenizerPath),
      { languageWeight: defaults.data.languageWeight, seed: defaults.train.seed, maxTrainBytes: options.maxTrainBytes },
      (done, total) => log(`tokens: ${done}/${total} files`),
    );
    log(
      `tokens: ${tokens.trainTokens} training tokens (${tokens.uniqueTrainTokens} distinct), ` +
        `${tokens.charsPerToken.toFixed(2)} chars/token`,
    );
  }
  return { manifest, tokens };
}
