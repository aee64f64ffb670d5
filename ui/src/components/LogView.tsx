import { useEffect, useRef } from 'react';

/** Terminal control sequences (colours, sd.cpp's ESC[K after each progress bar): meaningless in a page. */
const CONTROL_SEQUENCE = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** A live log that stays pinned to the bottom unless the reader scrolled up to read. */
export function LogView({ lines, label }: { lines: string[]; label: string }) {
  const ref = useRef<HTMLPreElement>(null);
  const pinned = useRef(true);
  useEffect(() => {
    const el = ref.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [lines]);
  return (
    <pre
      ref={ref}
      className="log live-log"
      tabIndex={0}
      aria-label={label}
      aria-live="off"
      onScroll={(event) => {
        const el = event.currentTarget;
        pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
      }}
    >
      {lines.length === 0 ? 'No output yet.' : lines.join('\n').replace(CONTROL_SEQUENCE, '')}
    </pre>
  );
}
