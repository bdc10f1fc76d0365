// codeloop serve checks its port before it loads the model (which can take minutes): a port in use is a usage error.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { repositoryRoot } from '../eval/helpers.js';

test('serve --http on a port in use: exit 2 naming the port, before the model is opened', async () => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const { port } = holder.address() as AddressInfo;
  try {
    const result = spawnSync(
      process.execPath,
      [
        join(repositoryRoot(), 'bin', 'codeloop.js'),
        'serve',
        '--http',
        '--port',
        String(port),
        '--model',
        'gguf:/nonexistent/model.gguf',
      ],
      { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, timeout: 60_000 },
    );
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use .*pick another with --port`));
    assert.doesNotMatch(result.stderr, /nonexistent/);
  } finally {
    await new Promise((resolve) => holder.close(resolve));
  }
});
