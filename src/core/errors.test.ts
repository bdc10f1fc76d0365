import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPackageNotFound, MissingDependencyError } from './errors.js';

test('isPackageNotFound tells a missing package from other import failures', async () => {
  const error = await import('codeloop-no-such-package-' + 'x').catch((caught: unknown) => caught);
  assert.equal(isPackageNotFound(error, 'codeloop-no-such-package-x'), true);
  assert.equal(isPackageNotFound(error, 'onnxruntime-node'), false);
  assert.equal(isPackageNotFound(new Error('boom'), 'codeloop-no-such-package-x'), false);
});

test('MissingDependencyError names the package, what needs it and the install command', () => {
  const error = new MissingDependencyError('onnxruntime-node', 'training (codeloop train)', '1.30.0');
  assert.equal(error.code, 'missing-dependency');
  assert.equal(
    error.message,
    'training (codeloop train) needs the npm package onnxruntime-node, which is not installed. ' +
      'Install it next to codeloop: npm install onnxruntime-node@1.30.0',
  );
});
