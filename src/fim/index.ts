export * from './completion/index.js';
