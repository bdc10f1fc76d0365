import type { FimFormat, FimTokens } from './fim-format.js';

export interface CheckSentinelsResult {
  /** One per sentinel that is not a single token, and per pair of sentinels that share an id. Empty when all is well. */
  warnings: string[];
  /** Token id of each sentinel text that tokenized to exactly one token (for mapping `special` segments to ids). */
  tokenIds: Record<string, number>;
}

const ROLE_NAMES: Record<keyof FimTokens, string> = {
  prefix: 'FIM prefix',
  suffix: 'FIM suffix',
  middle: 'FIM middle',
  endOfText: 'end of text',
  pad: 'FIM pad',
  repoName: 'repository name',
  fileSeparator: 'file separator',
  fileName: 'file name',
};

/**
 * Probes a loaded tokenizer: each of the format's tokens must come out as exactly one token, else the model would see
 * a FIM prompt spelled in plain text. `tokenize` must parse special tokens (llama.cpp `parse_special = true`) and add
 * no BOS. Run it when a model loads; the warnings go to the caller's result, not to a log.
 */
export async function checkSentinels(
  format: FimFormat,
  tokenize: (text: string) => Promise<readonly number[]> | readonly number[],
): Promise<CheckSentinelsResult> {
  const warnings: string[] = [];
  const tokenIds: Record<string, number> = {};
  const roleOf = new Map<number, string>();
  const probed = new Set<string>();
  for (const [role, text] of Object.entries(format.tokens) as [keyof FimTokens, string | undefined][]) {
    if (text === undefined || probed.has(text)) continue;
    probed.add(text);
    const ids = await tokenize(text);
    const [id] = ids;
    if (ids.length !== 1 || id === undefined) {
      warnings.push(
        `${format.displayName}'s ${ROLE_NAMES[role]} token '${text}' tokenizes to ${ids.length} tokens [${ids.join(', ')}], not one: ` +
          'the tokenizer does not know it as a special token (wrong FIM format for this model, or special-token parsing is off), ' +
          'so infill prompts would reach the model as plain text.',
      );
      continue;
    }
    tokenIds[text] = id;
    const earlier = roleOf.get(id);
    if (earlier !== undefined) {
      warnings.push(
        `${format.displayName}'s ${ROLE_NAMES[role]} token '${text}' has the same id ${id} as ${earlier}; the model ` +
          `cannot tell them apart.`,
      );
    } else {
      roleOf.set(id, `'${text}'`);
    }
  }
  return { warnings, tokenIds };
}
