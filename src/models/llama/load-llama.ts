import type { Llama } from 'node-llama-cpp';

/** One shared node-llama-cpp instance per process (loading the native addon twice wastes memory). */
const llamaInstances = new Map<string, Promise<Llama>>();

export function loadLlama(gpu: boolean): Promise<Llama> {
  const key = gpu ? 'auto' : 'cpu';
  let instance = llamaInstances.get(key);
  if (!instance) {
    instance = (async () => {
      const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
      // Library code never prints: llama.cpp's log goes nowhere but errors are kept for load failures.
      return getLlama({
        gpu: gpu ? 'auto' : false,
        build: 'never',
        logLevel: LlamaLogLevel.error,
        logger: (_level, message) => rememberLog(message),
      });
    })();
    llamaInstances.set(key, instance);
    instance.catch(() => llamaInstances.delete(key));
  }
  return instance;
}

const recentLog: string[] = [];

/** The last lines llama.cpp logged (errors only), for a load failure's message. */
export const recentLlamaLog = (): readonly string[] => recentLog;

function rememberLog(message: string): void {
  recentLog.push(message.trim());
  if (recentLog.length > 20) recentLog.shift();
}
