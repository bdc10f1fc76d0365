import type { RedisOptions } from 'bullmq';
import { UsageError } from '../core/index.js';

/** Environment variable with the Redis password, used when the URL carries none (keeps it out of `ps` and logs). */
export const REDIS_PASSWORD_ENV = 'CODELOOP_REDIS_PASSWORD';
/** Environment variable with the Redis URL, used by `codeloop doctor` when --redis is not given. */
export const REDIS_URL_ENV = 'CODELOOP_REDIS_URL';

export interface RedisTarget {
  /** ioredis options for BullMQ's connections (and our own monitoring connection). */
  connection: RedisOptions & { host: string; port: number };
  /** The URL with any password replaced by `***`: the form every message and log line uses. */
  displayUrl: string;
}

/**
 * Parses `redis://[user[:password]@]host[:port][/db]` or `rediss://…` (TLS, verified against Node's CA store and
 * NODE_EXTRA_CA_CERTS). The password comes from the URL, else from CODELOOP_REDIS_PASSWORD. A bad URL is a UsageError
 * that names it (redacted) and shows the expected form.
 */
export function parseRedisUrl(url: string, env: NodeJS.ProcessEnv = process.env): RedisTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(
      `Redis URL ${JSON.stringify(redactRedisUrl(url))} is not a URL: use redis://[user:password@]host[:port][/db] or rediss://… for TLS.`,
    );
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new UsageError(
      `Redis URL ${redactRedisUrl(url)} has scheme "${parsed.protocol.replace(/:$/, '')}": use redis:// (plain) or rediss:// (TLS).`,
    );
  if (parsed.hostname === '') throw new UsageError(`Redis URL ${redactRedisUrl(url)} names no host.`);
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  const dbText = parsed.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0 || db > 15)
    throw new UsageError(`Redis URL ${redactRedisUrl(url)}: database "${dbText}" is not a number from 0 to 15.`);
  const password = parsed.password !== '' ? decodeURIComponent(parsed.password) : env[REDIS_PASSWORD_ENV] || undefined;
  const username = parsed.username !== '' ? decodeURIComponent(parsed.username) : undefined;
  // IPv6 literals come bracketed from URL; ioredis wants them bare.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    connection: {
      host,
      port,
      db,
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password }),
      ...(parsed.protocol === 'rediss:' ? { tls: { servername: host } } : {}),
    },
    displayUrl: redactRedisUrl(url),
  };
}

/** `redis://user:secret@host` → `redis://user:***@host`; anything unparsable is returned with a password-like part cut. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/([^@/]*):[^@/]*@/, '//$1:***@');
  }
}
