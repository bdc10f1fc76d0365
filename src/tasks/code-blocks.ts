/**
 * Fenced code blocks in a model's answer. Chat models answer in prose around Markdown fences; eval's sanitizer, the
 * solve loop and rewards all read code out of them with this one parser.
 */

export interface CodeBlock {
  /** The fence's info string, lower-cased, up to the first space (`python`, `ts`, '' for none). */
  tag: string;
  /** The lines between the fences, less the fence's own indentation, each ending in "\n". */
  code: string;
}

export interface CodeBlocksResult {
  blocks: CodeBlock[];
  /** The offset in the text of the first fence line; -1 when there is none. */
  firstFence: number;
}

/** An opening fence: up to any indentation, three or more backticks or tildes, then an optional info string. */
const OPENING_FENCE = /^([ \t]*)(`{3,}|~{3,})[ \t]*([^\s`]*)[^`]*$/;

/**
 * The fenced code blocks of `text` (CommonMark's rules, simplified: a block closes at a line of the same fence
 * character, at least as long, with nothing else; an unclosed block runs to the end, as in a cut-off answer), and the
 * offset of the first fence line.
 */
export function codeBlocks(text: string): CodeBlocksResult {
  const blocks: CodeBlock[] = [];
  let firstFence = -1;
  let open: { indent: number; fence: string; tag: string; lines: string[] } | null = null;
  let offset = 0;
  const rawLines = text.split('\n');
  // A text that ends in "\n" has no line after it: an unclosed block ends with that newline, not with an empty line.
  if (rawLines.at(-1) === '') rawLines.pop();
  for (const rawLine of rawLines) {
    const line = rawLine.replace(/\r$/, '');
    if (open === null) {
      const match = OPENING_FENCE.exec(line);
      if (match !== null) {
        if (firstFence === -1) firstFence = offset;
        open = {
          indent: match[1]?.length ?? 0,
          fence: match[2] ?? '```',
          tag: (match[3] ?? '').toLowerCase(),
          lines: [],
        };
      }
    } else {
      const closing = /^[ \t]*(`{3,}|~{3,})[ \t]*$/.exec(line)?.[1];
      if (closing !== undefined && closing[0] === open.fence[0] && closing.length >= open.fence.length) {
        blocks.push({ tag: open.tag, code: open.lines.join('') });
        open = null;
      } else {
        const indent = /^[ \t]*/.exec(line)?.[0].length ?? 0;
        open.lines.push(`${line.slice(Math.min(indent, open.indent))}\n`);
      }
    }
    offset += rawLine.length + 1;
  }
  if (open !== null && open.lines.some((line) => line.trim() !== ''))
    blocks.push({ tag: open.tag, code: open.lines.join('') });
  return { blocks, firstFence };
}
