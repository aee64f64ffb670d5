/**
 * sd.cpp log lines (examples/common/log.cpp): "[INFO ] file.cpp:123  - text". A log line may come glued
 * after a step bar on the same terminal line, so it is searched for anywhere, after ANSI codes are removed.
 */
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;
const LOG = /\[(DEBUG|INFO |WARN |ERROR)\] ([^\s:]+):(\d+)\s+- (.*)$/;

export interface LogLine {
  level: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  file: string;
  line: number;
  text: string;
}

export function stripAnsi(line: string): string {
  return line.replace(ANSI, '');
}

export function parseLogLine(raw: string): LogLine | undefined {
  const m = LOG.exec(stripAnsi(raw));
  if (!m || m[1] === undefined || m[2] === undefined || m[3] === undefined || m[4] === undefined) return undefined;
  return { level: m[1].trim() as LogLine['level'], file: m[2], line: Number(m[3]), text: m[4] };
}
