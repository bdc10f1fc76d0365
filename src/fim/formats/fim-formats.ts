// Moved to src/models/fim-formats (see fim-format.ts next to this file); kept for deep imports of the old path.
export * from '../../models/fim-formats/fim-formats.js';
