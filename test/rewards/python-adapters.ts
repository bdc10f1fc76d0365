// Test support for the Python adapter tests: runs Debian's python3 on the trainer-call scripts in
// test/rewards/trainer-calls/ with the package's python/ folder on its path and a clean environment.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The package's Python adapters folder (shipped in the npm package through package.json "files"). */
export const PYTHON_DIR = join(root, 'python');
export const ADAPTERS_DIR = join(PYTHON_DIR, 'codeloop_rewards');
export const CALLS_DIR = join(root, 'test', 'rewards', 'trainer-calls');

/** Debian's interpreter (the adapters promise the standard library only), else whatever python3 is on PATH. */
export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export interface PythonRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `python3 args…` with `input` on stdin; `env` is added to a minimal environment. */
export function runPython(args: string[], input: string, env: Record<string, string> = {}): Promise<PythonRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        PYTHONPATH: PYTHON_DIR,
        PYTHONDONTWRITEBYTECODE: '1',
        ...env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** Runs a trainer-call script and parses the one JSON line it prints. */
export async function callTrainer(
  script: string,
  args: string[],
  input: unknown,
  env: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const run = await runPython([join(CALLS_DIR, script), ...args], JSON.stringify(input), env);
  if (run.status !== 0) throw new Error(`${script} exited ${run.status}: ${run.stderr}`);
  try {
    return JSON.parse(run.stdout) as Record<string, unknown>;
  } catch {
    throw new Error(`${script} printed no JSON: ${run.stdout}\n${run.stderr}`);
  }
}
