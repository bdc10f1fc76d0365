/**
 * Suffix-overlap merge. Models often re-type what follows the cursor: the closing `)` an editor auto-inserted, the rest
 * of the line, the block's closing lines (Continue #4721 "Autocomplete duplicates code", Cody #811 "suggests code
 * that is already present"). Dropping such completions loses the useful part; showing them duplicates code. Instead,
 * when the completion's tail equals the suffix's head, the completion is returned with a replace range that covers
 * that head, so accepting it leaves one copy (Continue does this for single lines only, via a word diff).
 */

export interface SuffixMerge {
  /** The completion, unchanged or with trailing whitespace removed when that whitespace sat before the overlap. */
  text: string;
  /** How many characters after the cursor the completion replaces (0 = plain insert). */
  replaceLength: number;
}

/** Characters that auto-closing editors insert and models re-type: a one-character overlap of these is merged. */
const CLOSERS = /^[\s)\]}>"'`;,:]*$/;

/**
 * The longest overlap between the completion's tail and the suffix's head (up to `window` characters), tolerating
 * spaces/tabs the suffix has before it. Overlaps of letters or digits need at least `minCodeOverlap` non-space
 * characters, so `x = a` before `a + b` is not taken for a re-typed `a`.
 */
export function mergeSuffixOverlap(
  completion: string,
  suffix: string,
  options: { window?: number; minCodeOverlap?: number } = {},
): SuffixMerge {
  const { window = 400, minCodeOverlap = 3 } = options;
  const text = completion.replace(/[ \t]+$/, '');
  const head = suffix.slice(0, window);
  const skippable = head.match(/^[ \t]*/)?.[0].length ?? 0;
  for (let length = Math.min(text.length, head.length); length >= 1; length -= 1) {
    for (let skip = 0; skip <= skippable; skip += 1) {
      const overlap = head.slice(skip, skip + length);
      if (overlap.length < length || !text.endsWith(overlap) || overlap.trim() === '') continue;
      const meaningful = overlap.replace(/\s/g, '');
      if (!CLOSERS.test(overlap) && meaningful.length < minCodeOverlap) continue;
      // The overlap must start at a token boundary in the completion, or `foobar` + suffix `bar()` would eat `bar`.
      const before = text[text.length - length - 1];
      if (before !== undefined && /\w/.test(before) && /^\w/.test(overlap)) continue;
      return { text, replaceLength: skip + length };
    }
  }
  return { text: completion, replaceLength: 0 };
}

/** The completion without the re-typed suffix head it replaces, for clients that can only insert. */
export function insertOnlyText(text: string, replaceLength: number, suffix: string): string {
  if (replaceLength === 0) return text;
  const overlap = suffix.slice(0, replaceLength).trimStart();
  return text.endsWith(overlap) ? text.slice(0, text.length - overlap.length) : text;
}

/**
 * The same edit with the replaced range on the cursor's line, for editors that require it (VS Code: an inline
 * completion's range must start and end on one line). When the `replaceLength` characters after the cursor cross a
 * line break, the part after the break is dropped from the end of the text (the document already has it) and only
 * the rest of the cursor line is replaced; if the text does not end with that part, the edit becomes insert-only.
 */
export function sameLineEdit(text: string, replaceLength: number, suffix: string): SuffixMerge {
  const replaced = suffix.slice(0, replaceLength);
  // A CRLF document's line ends at its `\r`; the model may have written the part past it with `\n` alone.
  const lineBreak = /\r?\n/.exec(replaced);
  if (lineBreak === null) return { text, replaceLength };
  const lineEnd = lineBreak.index;
  const beyond = replaced.slice(lineEnd);
  for (const tail of new Set([beyond, beyond.replace(/\r\n/g, '\n')])) {
    if (text.endsWith(tail)) return { text: text.slice(0, text.length - tail.length), replaceLength: lineEnd };
  }
  return { text: insertOnlyText(text, replaceLength, suffix), replaceLength: 0 };
}
