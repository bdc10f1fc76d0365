/**
 * What was wrong with text that JSON.parse rejected, without any of the text: V8 quotes the text around an unexpected
 * token (`Unexpected token 'r', "root:x:0:0"... is not valid JSON`), and an error message must never carry a file's
 * contents to wherever it is shown (a terminal, a log, a report page). Keeps V8's own words when they quote nothing
 * ("Unterminated string in JSON at position 4", "Unexpected end of JSON input").
 */
export function jsonSyntaxError(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  if (/^[A-Za-z ,'[\]{}:-]+ JSON at position \d+( \(line \d+ column \d+\))?$/.test(message)) return message;
  if (message === 'Unexpected end of JSON input') return message;
  return 'unexpected text';
}
