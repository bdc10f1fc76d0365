export * from './http/index.js';
export * from './lsp/index.js';
