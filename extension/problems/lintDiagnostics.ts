// Lints (protocol.json Lint) as problems: the pure mapping the Problems panel (lintProblems.ts) and
// `loopscope trace --lint` share. No `vscode` import.
import * as path from 'node:path';
import { Lint, LINT_KIND_LABELS, LintKind } from '../adapter/protocol';

/** Mistakes that lose work outright (code that never ran, an exception nobody saw, a task that never
 * finished) are errors; the others are warnings. */
const ERRORS: ReadonlySet<LintKind> = new Set<LintKind>(['neverAwaited', 'exceptionNeverRetrieved', 'destroyedPending']);

export interface LintProblem {
  path: string;
  /** 0-based, as editors count. */
  line: number;
  message: string;
  severity: 'error' | 'warning';
  /** What kind of mistake, in words ('coroutine never awaited'). */
  code: string;
  related: { path: string; line: number; message: string }[];
}

export function lintProblem(lint: Lint): LintProblem {
  return {
    path: lint.location.path,
    line: Math.max(0, lint.location.line - 1),
    message: lint.message,
    severity: ERRORS.has(lint.kind) ? 'error' : 'warning',
    code: LINT_KIND_LABELS[lint.kind],
    related: (lint.related ?? []).map((r) => ({ path: r.location.path, line: Math.max(0, r.location.line - 1), message: r.message })),
  };
}

/** One line per lint as compilers print them: 'app.py:12: warning: message [kind]', paths relative to base. */
export function lintLine(lint: Lint, base: string): string {
  const problem = lintProblem(lint);
  const relative = path.relative(base, lint.location.path);
  const where = relative.startsWith('..') ? lint.location.path : relative;
  return `${where}:${lint.location.line}: ${problem.severity}: ${lint.message} [${problem.code}]`;
}
