import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * codemirror-json-schema renders schema descriptions with markdown-it + shiki and can parse YAML and JSON5;
 * the recipe editor needs none of them (JSON only, no JSON5; recipe descriptions are plain sentences with
 * `code`). Swapping those modules for tiny stand-ins keeps about 600 KB out of the bundle.
 */
function slimJsonSchemaEditor(): Plugin {
  const MARKDOWN = '\0orchard:plain-markdown';
  const NO_YAML = '\0orchard:no-yaml';
  const NO_JSON5 = '\0orchard:no-json5';
  return {
    name: 'orchard-slim-codemirror-json-schema',
    enforce: 'pre',
    resolveId(source, importer) {
      if (!importer?.includes('/codemirror-json-schema/')) return null;
      if (source === 'yaml') return NO_YAML;
      if (source === 'json5') return NO_JSON5;
      if (source.endsWith('/utils/markdown') || source.endsWith('/utils/markdown.js')) return MARKDOWN;
      return null;
    },
    load(id) {
      if (id === MARKDOWN) {
        return `const esc = (s) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
export function renderMarkdown(text) { return esc(String(text)).replace(/\`([^\`]+)\`/g, '<code>$1</code>'); }`;
      }
      if (id === NO_YAML) {
        return `const no = () => { throw new Error('YAML is not supported in the recipe editor'); };
export default { parse: no, parseDocument: no, stringify: no };
export const parse = no, parseDocument = no, stringify = no;
export const isMap = () => false, isSeq = () => false, isScalar = () => false, isPair = () => false, isNode = () => false;
export const visit = no, LineCounter = class { constructor() { no(); } };`;
      }
      if (id === NO_JSON5)
        return `const no = () => { throw new Error('JSON5 is not supported in the recipe editor'); };
export default { parse: no, stringify: no };
export const parse = no, stringify = no;`;
      return null;
    },
  };
}

// The UI is served by `orchard serve` from ui/dist (same origin as the API, so no CORS anywhere).
// Relative asset paths let the Electron shell or any mount point load it unchanged.
export default defineConfig({
  root,
  base: './',
  plugins: [slimJsonSchemaEditor(), react()],
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
    // The lazily loaded editor chunk (CodeMirror + JSON Schema tooling) is about 520 KB; the main chunk stays near 320 KB.
    chunkSizeWarningLimit: 600,
  },
});
