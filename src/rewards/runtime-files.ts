import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const sources = new Map<string, string>();

/** The text of a file of src/rewards/runtime (the programs that run inside the sandbox), read once. */
export function runtimeSource(file: string): string {
  const cached = sources.get(file);
  if (cached !== undefined) return cached;
  const here = dirname(fileURLToPath(import.meta.url));
  // From dist/src/rewards the sources are three levels up; from src/rewards they are here.
  for (const candidate of [
    join(here, 'runtime', file),
    join(here, '..', '..', '..', 'src', 'rewards', 'runtime', file),
  ]) {
    if (existsSync(candidate)) {
      const text = readFileSync(candidate, 'utf8');
      sources.set(file, text);
      return text;
    }
  }
  throw new Error(`codeloop is installed incompletely: src/rewards/runtime/${file} was not found near ${here}`);
}
