import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { json, jsonLanguage } from '@codemirror/lang-json';
import { bracketMatching, foldGutter, indentOnInput, syntaxHighlighting, defaultHighlightStyle } from '@codemirror/language';
import { lintGutter, linter, type Diagnostic } from '@codemirror/lint';
import { Compartment, EditorState, RangeSetBuilder, StateEffect, StateField } from '@codemirror/state';
import {
  Decoration,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  hoverTooltip,
  keymap,
  lineNumbers,
  type DecorationSet,
} from '@codemirror/view';
import { disableErrorLogging } from 'best-effort-json-parser';
import { jsonCompletion, jsonSchemaHover, stateExtensions } from 'codemirror-json-schema';
import { forwardRef, useEffect, useImperativeHandle, useRef } from 'react';
import recipeSchema from '../../../engine/recipe/recipe.schema.json';

export interface CodeEditorHandle {
  /** Put the caret at a line (1-based) and column, scroll it into view, focus the editor. */
  goToLine(line: number, column?: number): void;
}

export interface LineMark {
  line: number;
  column?: number;
  message: string;
  hint?: string;
}

const setMarks = StateEffect.define<LineMark[]>();

/** The server's validation (schema, templates, paths), kept in the editor state: lines get a class and data-line. */
const marksField = StateField.define<{ marks: LineMark[]; lines: DecorationSet }>({
  create: () => ({ marks: [], lines: Decoration.none }),
  update(value, tr) {
    let marks = value.marks;
    for (const effect of tr.effects) if (effect.is(setMarks)) marks = effect.value;
    if (marks === value.marks && !tr.docChanged) return value;
    const builder = new RangeSetBuilder<Decoration>();
    const seen = new Set<number>();
    for (const mark of [...marks].sort((a, b) => a.line - b.line)) {
      if (mark.line < 1 || mark.line > tr.state.doc.lines || seen.has(mark.line)) continue;
      seen.add(mark.line);
      const line = tr.state.doc.line(mark.line);
      builder.add(line.from, line.from, Decoration.line({ class: 'cm-error-line', attributes: { 'data-line': String(mark.line) } }));
    }
    return { marks, lines: builder.finish() };
  },
  provide: (field) => EditorView.decorations.from(field, (v) => v.lines),
});

/** Inline errors: the server's findings as diagnostics (underline, gutter marker, tooltip with the hint). */
const serverLinter = linter(
  (view) => {
    const { marks } = view.state.field(marksField);
    const doc = view.state.doc;
    return marks.flatMap((mark): Diagnostic[] => {
      if (mark.line < 1 || mark.line > doc.lines) return [];
      const line = doc.line(mark.line);
      const from = Math.min(line.to, line.from + Math.max(0, (mark.column ?? 1) - 1));
      const to = from < line.to ? line.to : from;
      return [{ from, to, severity: 'error', message: mark.hint ? `${mark.message}\n${mark.hint}` : mark.message }];
    });
  },
  // New findings from the server re-run this source at once (not only edits).
  { delay: 0, needsRefresh: (update) => update.transactions.some((tr) => tr.effects.some((e) => e.is(setMarks))) },
);

// codemirror-json-schema reads half-typed JSON with best-effort-json-parser, which would log every
// unfinished edit to the console; the editor's own validation reports real problems.
disableErrorLogging();

const schema = recipeSchema as Parameters<typeof stateExtensions>[0];

/**
 * The recipe editor: CodeMirror 6 with the recipe JSON Schema driving completion (keys, enum
 * values, required properties) and hover docs (codemirror-json-schema), and the server's
 * validation — schema, template and path errors at once — shown inline at each line.
 */
export const CodeEditor = forwardRef<CodeEditorHandle, { value: string; onChange: (v: string) => void; marks: LineMark[]; label: string }>(
  function CodeEditor({ value, onChange, marks, label }, ref) {
    const host = useRef<HTMLDivElement>(null);
    const view = useRef<EditorView>(null);
    const onChangeRef = useRef(onChange);
    onChangeRef.current = onChange;
    const labelCompartment = useRef(new Compartment());

    useEffect(() => {
      if (!host.current) return;
      const editor = new EditorView({
        parent: host.current,
        state: EditorState.create({
          doc: value,
          extensions: [
            lineNumbers(),
            highlightActiveLineGutter(),
            foldGutter(),
            lintGutter(),
            history(),
            indentOnInput(),
            bracketMatching(),
            closeBrackets(),
            highlightActiveLine(),
            syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
            json(),
            jsonLanguage.data.of({ autocomplete: jsonCompletion() }),
            EditorView.lineWrapping,
            autocompletion({ activateOnTyping: true }),
            hoverTooltip(jsonSchemaHover()),
            stateExtensions(schema),
            marksField,
            serverLinter,
            // Tab indents; Escape then Tab leaves the editor (CodeMirror's documented escape hatch for keyboard users).
            keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap, indentWithTab]),
            labelCompartment.current.of(EditorView.contentAttributes.of({ 'aria-label': label })),
            EditorView.updateListener.of((update) => {
              if (update.docChanged) onChangeRef.current(update.state.doc.toString());
            }),
          ],
        }),
      });
      view.current = editor;
      return () => {
        editor.destroy();
        view.current = null;
      };
      // The editor is created once; value changes from outside are applied below.
      // eslint-disable-next-line react-hooks/exhaustive-deps
    }, []);

    // A value set from outside (a recipe loaded from the server) replaces the text.
    useEffect(() => {
      const editor = view.current;
      if (!editor || editor.state.doc.toString() === value) return;
      editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: value } });
    }, [value]);

    useEffect(() => {
      const editor = view.current;
      if (!editor) return;
      editor.dispatch({ effects: setMarks.of(marks) });
    }, [marks]);

    useImperativeHandle(ref, () => ({
      goToLine(line: number, column = 1) {
        const editor = view.current;
        if (!editor) return;
        const target = editor.state.doc.line(Math.min(Math.max(1, line), editor.state.doc.lines));
        const anchor = Math.min(target.to, target.from + Math.max(0, column - 1));
        editor.dispatch({ selection: { anchor }, scrollIntoView: true });
        editor.focus();
      },
    }));

    return <div className="code-editor cm-host" ref={host} />;
  },
);
