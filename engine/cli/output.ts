// How commands report lives in core/output.ts, so the bundled services (which must not import cli/)
// report the same way; the CLI's commands keep importing it from here.
export * from '../core/output.js';
