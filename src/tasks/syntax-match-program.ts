/** What `syntaxMatchProgram` compares. */
export interface SyntaxMatchInput {
  completion: string;
  /** The reference completion (SAFIM's `ground_truth`). */
  reference: string;
  /** Language of the completion: only `python` gets the call-argument comparison. */
  language: string;
  /**
   * The whole program with the completion filled in, for Python: when the completion does not match and this does not
   * parse, the failure is labelled `COMPILATION_ERROR` instead of `WRONG_ANSWER` (SAFIM's label; the verdict is the same).
   */
  program?: string;
}

/** Prefix of the one summary line the program prints: `codeloop-syntax-match: {"match": …, "label": …}`. */
export const SYNTAX_MATCH_RESULT_PREFIX = 'codeloop-syntax-match: ';

/**
 * A Python program that exits 0 iff `completion` matches `reference` under SAFIM's `syntax_match`
 * (gonglinyuan/safim `evaluate.py`): all whitespace is removed from both (`re.sub(r"\s+", "", …)`), then for Python,
 * if both parse as expressions whose top node is a call, they match when the calls' positional arguments and keyword
 * arguments are equal as ASTs (`ast.dump`), whatever function is called; in every other case, and when parsing fails,
 * they match when the whitespace-free texts are equal. Nothing is executed: the completion is only parsed.
 *
 * It prints `SYNTAX_MATCH_RESULT_PREFIX + {"match", "label"}` on stdout, with SAFIM's label: `EXACT_MATCH`, or
 * `COMPILATION_ERROR` (Python, `program` given and not parsable with `ast.parse`; SAFIM checks with tree-sitter) or
 * `WRONG_ANSWER`; on a mismatch the last stderr line is `SyntaxMatchError: <label>`.
 */
export function syntaxMatchProgram(input: SyntaxMatchInput): string {
  const config = {
    completion: input.completion,
    reference: input.reference,
    language: input.language,
    program: input.program ?? null,
  };
  const encoded = Buffer.from(JSON.stringify(config), 'utf8').toString('base64');
  return `${HEAD}CONFIG = json.loads(base64.b64decode("${encoded}"))\n${BODY}`;
}

const HEAD = String.raw`# codeloop syntax-match check (src/tasks/syntax-match-program.ts): SAFIM's syntax_match of a completion against the
# ground truth. Exit 0 iff they match. The completion is parsed, never run.
import ast
import base64
import json
import re
import sys

`;

const BODY = String.raw`
RESULT_PREFIX = "codeloop-syntax-match: "


def call_arguments(node):
    positional = [ast.dump(argument) for argument in node.args]
    keywords = {keyword.arg: ast.dump(keyword.value) for keyword in node.keywords}
    return positional, keywords


def syntax_match(completion, reference, language):
    completion = re.sub(r"\s+", "", completion).strip()
    reference = re.sub(r"\s+", "", reference).strip()
    if language == "python":
        try:
            first = ast.parse(completion, mode="eval")
            second = ast.parse(reference, mode="eval")
            if isinstance(first.body, ast.Call) and isinstance(second.body, ast.Call):
                return call_arguments(first.body) == call_arguments(second.body)
        except Exception:  # SAFIM: "If parsing fails, fall back to simple string comparison"
            pass
    return completion == reference


def parses(program):
    try:
        ast.parse(program)
        return True
    except Exception:
        return False


matched = syntax_match(CONFIG["completion"], CONFIG["reference"], CONFIG["language"])
if matched:
    label = "EXACT_MATCH"
elif CONFIG["language"] == "python" and CONFIG["program"] is not None and not parses(CONFIG["program"]):
    label = "COMPILATION_ERROR"
else:
    label = "WRONG_ANSWER"
print(RESULT_PREFIX + json.dumps({"match": matched, "label": label}), flush=True)
if not matched:
    print("SyntaxMatchError: " + label, file=sys.stderr, flush=True)
    sys.exit(1)
`;
