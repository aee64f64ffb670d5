/**
 * V8 flags for the processes that may download (`orchard ...` commands, `orchard serve`; not the
 * inference services the supervisor starts). The launchers pass them on: bin/orchard.js in its
 * shebang, scripts/start.mjs and the Electron shell on the command line (a test checks the shebang
 * against this list). Node accepts this flag only on the command line, not in NODE_OPTIONS or at
 * run time.
 *
 * Why: a download streams gigabytes through Node's socket buffers, which V8 counts as external
 * memory against an old generation that, in a CLI with an ~8 MB heap, may grow only 8 MB before a
 * full mark-compact. A 1 GiB download ran 40–50 of them; with a 64 MB starting budget it runs a
 * handful, and a 4 GiB download spent 0.6–1.2 s less CPU (three alternating rounds on bench/download's server). The heap
 * still grows and shrinks as V8 decides; peak RSS stayed at 165–173 MB.
 */
export const ENGINE_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64'];
