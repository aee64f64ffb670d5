import { forwardRef, useImperativeHandle, useMemo, useRef } from 'react';

export interface CodeEditorHandle {
  /** Put the caret at the start of a line (1-based) and scroll it into view. */
  goToLine(line: number, column?: number): void;
}

export interface LineMark {
  line: number;
  message: string;
}

/**
 * A plain textarea with a line-number gutter that marks lines with errors. Tab is left to move
 * focus (keyboard users must be able to leave the editor); the gutter scrolls with the text.
 */
export const CodeEditor = forwardRef<CodeEditorHandle, { value: string; onChange: (v: string) => void; marks: LineMark[]; label: string }>(function CodeEditor(
  { value, onChange, marks, label },
  ref,
) {
  const textarea = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  const lineCount = useMemo(() => value.split('\n').length, [value]);
  const marked = useMemo(() => {
    const byLine = new Map<number, string[]>();
    for (const mark of marks) byLine.set(mark.line, [...(byLine.get(mark.line) ?? []), mark.message]);
    return byLine;
  }, [marks]);

  useImperativeHandle(ref, () => ({
    goToLine(line: number, column = 1) {
      const el = textarea.current;
      if (!el) return;
      const lines = el.value.split('\n');
      let offset = 0;
      for (let i = 0; i < Math.min(line - 1, lines.length); i++) offset += (lines[i]?.length ?? 0) + 1;
      offset += Math.max(0, column - 1);
      el.focus();
      el.setSelectionRange(offset, offset);
      const lineHeight = parseFloat(getComputedStyle(el).lineHeight) || 18;
      el.scrollTop = Math.max(0, (line - 4) * lineHeight);
    },
  }));

  return (
    <div className="code-editor">
      <div className="gutter" ref={gutter} aria-hidden="true">
        {Array.from({ length: lineCount }, (_, i) => {
          const messages = marked.get(i + 1);
          return (
            <div key={i} className={messages ? 'line-number has-error' : 'line-number'} data-line={i + 1} title={messages?.join('\n')}>
              {i + 1}
            </div>
          );
        })}
      </div>
      <textarea
        ref={textarea}
        value={value}
        spellCheck={false}
        autoCapitalize="off"
        autoComplete="off"
        wrap="off"
        aria-label={label}
        onChange={(e) => onChange(e.target.value)}
        onScroll={(e) => {
          if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
        }}
      />
    </div>
  );
});
