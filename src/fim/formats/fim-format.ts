// The FIM format registry lives in src/models/fim-formats (the llama backend detects and renders formats on load, and
// models, layer 1, must not import fim, layer 2). This file keeps deep imports of the old path working; import from
// src/fim/index.ts or src/models/index.ts instead.
export * from '../../models/fim-formats/fim-format.js';
