// `loopscope trace`: steps the program handle by handle through the same runtime requests the
// debug adapter uses for stepIn, and prints one block per loop iteration with the program's
// output in place between the steps that printed it. With --lint or --timeline the program runs
// freely instead (timings are real): the lints are listed at the end, the timeline written as
// Chrome Trace Event JSON.
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { HandleInfo, Lint, Location, RuntimeEvents } from '../adapter/protocol';
import { hashSeedEnvironment } from '../adapter/timeTravel';
import { LaunchError, launchWithPythonFallback, OutputSink, RuntimeConnection } from '../adapter/runtimeConnection';
import { lintLine } from '../problems/lintDiagnostics';
import { chromeTrace } from '../timeline/chromeTrace';

export interface TraceOptions {
  python?: string;
  program?: string;
  module?: string;
  args: string[];
  maxIterations: number;
  /** Run freely and list the lints at the end. */
  lint?: boolean;
  /** Run freely (recording task steps) and write the timeline here as the program exits. */
  timeline?: string;
  /** The Loop blocked threshold for --lint, in ms. */
  blockedMs?: number;
  /** Also record the run's schedule to this file (launch.json's "record"). */
  record?: string;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

type Stop = RuntimeEvents['stopped'];
/** A stop on a loop: the trace follows loops only (a stop on a thread that runs no loop has none of these). */
type LoopStop = Stop & Required<Pick<Stop, 'loopId' | 'iteration' | 'time'>>;
const isLoopStop = (stop: Stop): stop is LoopStop => stop.loopId !== undefined && stop.iteration !== undefined && stop.time !== undefined;

/** Turns the stream of stops into the printed trace; pure, so it is tested without a program. */
export class TraceFormatter {
  private loopIteration = new Map<number, number>();
  private open: { threadId: number; handle: HandleInfo } | undefined;

  constructor(private readonly base: string) {}

  /** Lines to print at a stop before a handle (or at a loop's end), given what the runtime reported. */
  onStop(stop: Pick<LoopStop, 'loopId' | 'iteration' | 'time' | 'handle' | 'lastHandle'>): string[] {
    const lines = this.closeOpen(stop.loopId, stop.lastHandle);
    if (stop.handle && this.loopIteration.get(stop.loopId) !== stop.iteration) {
      this.loopIteration.set(stop.loopId, stop.iteration);
      lines.push(`── loop ${stop.loopId} · iteration ${stop.iteration} · loop time ${stop.time.toFixed(6)} ──`);
    }
    if (stop.handle) {
      this.open = { threadId: stop.loopId, handle: stop.handle };
      const verb = stop.handle.firstStep ? 'starts' : 'resumes';
      lines.push(`  ▶ ${this.describe(stop.handle)}${stop.handle.resumeAt ? ` ${verb} at ${this.where(stop.handle.resumeAt)}` : ''}`);
    }
    return lines;
  }

  /** Lines to print when a loop closes or the program ends. */
  onEnd(threadId: number | undefined, lastHandle: HandleInfo | undefined): string[] {
    return this.closeOpen(threadId ?? this.open?.threadId ?? -1, lastHandle);
  }

  private closeOpen(threadId: number, lastHandle: HandleInfo | undefined): string[] {
    if (!this.open || this.open.threadId !== threadId) return [];
    const handle = lastHandle ?? this.open.handle;
    this.open = undefined;
    if (handle.taskName === undefined) return [];
    switch (handle.taskState) {
      case 'pending': return [`  ⏸ ${handle.taskName} suspended${handle.suspendedAt ? ` at ${this.where(handle.suspendedAt)}` : ''}`];
      case 'done': return [`  ✔ ${handle.taskName} finished`];
      case 'cancelled': return [`  ✖ ${handle.taskName} cancelled`];
      case 'failed': return [`  ✖ ${handle.taskName} failed`];
      default: return [];
    }
  }

  private describe(handle: HandleInfo): string {
    if (handle.taskName === undefined) return `callback ${handle.callback}`;
    return `${handle.taskName} (${handle.coroutine ?? '?'})`;
  }

  private where(location: Location): string {
    const relativePath = path.relative(this.base, location.path);
    return `${relativePath.startsWith('..') ? location.path : relativePath}:${location.line}`;
  }
}

export async function runTrace(options: TraceOptions): Promise<number> {
  const cwd = process.cwd();
  const write = (lines: string[]) => { if (lines.length) options.out.write(lines.join('\n') + '\n'); };
  // A recording keeps the hash seed too, as in VS Code (timeTravel.ts).
  const env = options.record ? hashSeedEnvironment({}, undefined) : {};
  const launch = { program: options.program && path.resolve(options.program), module: options.module, args: options.args, cwd, env };
  let runtime: RuntimeConnection;
  try {
    runtime = await launchWithPythonFallback({ ...launch, python: options.python });
  } catch (error) {
    options.err.write(`loopscope: ${(error as Error).message}\n`);
    return error instanceof LaunchError ? 2 : 1;
  }
  // A reader slower than the program (a pager, a closed terminal) holds the program back, not the heap.
  const sink = options.out as unknown as Partial<OutputSink>;
  if (typeof sink.writableLength === 'number') runtime.throttleOutputBy(sink as OutputSink);
  const formatter = new TraceFormatter(cwd);
  let atLineStart = true;
  runtime.on('output', (category, text) => {
    (category === 'stdout' ? options.out : options.err).write(text);
    atLineStart = text.endsWith('\n');
  });
  runtime.on('log', (message) => options.err.write(`[loopscope] ${message}\n`));
  runtime.onEvent('log', (body) => options.err.write(`[loopscope] ${body.message}\n`));
  const emit = (lines: string[]) => {
    if (lines.length && !atLineStart) { options.out.write('\n'); atLineStart = true; }
    write(lines);
  };
  if (options.lint || options.timeline) return runFreely(runtime, options, emit, cwd);
  runtime.onEvent('loopClosed', (body) => emit(formatter.onEnd(body.threadId, body.lastHandle)));
  runtime.onEvent('deadlock', ({ deadlock }) => {
    const names = deadlock.tasks.map((t) => t.name).join(', ');
    emit([`  ⚠ ${deadlock.description}${names ? ` Stuck: ${names}${deadlock.total > deadlock.tasks.length ? ` and ${deadlock.total - deadlock.tasks.length} more` : ''}.` : ''}`]);
  });
  runtime.onEvent('stopped', (stop) => {
    if (!isLoopStop(stop)) {
      runtime.request('resume', { mode: 'continue', threadId: stop.threadId }).catch(() => undefined);
      return;
    }
    emit(formatter.onStop(stop));
    const mode = stop.iteration >= options.maxIterations ? 'continue' : 'handle';
    if (mode === 'continue') emit([`── stopped tracing after ${options.maxIterations} iterations; the program runs on ──`]);
    runtime.request('resume', { mode, threadId: stop.loopId }).catch(() => undefined);
  });
  emit([`Loopscope trace of ${options.module ? `-m ${options.module}` : options.program} (Python ${runtime.hello.python})`]);
  await runtime.request('setTaskFilters', { filters: [] });
  try {
    // The other options take the runtime's defaults, as in VS Code.
    await runtime.request('start', options.record ? { stopOnEntry: true, record: options.record } : { stopOnEntry: true });
  } catch (error) {
    options.err.write(`loopscope: ${(error as Error).message}\n`);
    await runtime.kill();
    return 2;
  }
  const exit = await runtime.whenExited();
  emit(formatter.onEnd(undefined, undefined));
  emit([`── program exited with code ${exit.code}${exit.signal ? ` (${exit.signal})` : ''} ──`]);
  return exit.code ?? 1;
}

/** --lint / --timeline: the program runs at full speed; what Loopscope found is printed at its end. */
async function runFreely(runtime: RuntimeConnection, options: TraceOptions, emit: (lines: string[]) => void, cwd: string): Promise<number> {
  const lints: Lint[] = [];
  let timelineWritten: string | undefined;
  runtime.onEvent('lint', (lint) => lints.push(lint));
  runtime.onEvent('timeline', (timeline) => {
    const program = options.module ? `-m ${options.module}` : options.program ?? 'program';
    writeFileSync(options.timeline!, JSON.stringify(chromeTrace(timeline, program)));
    timelineWritten = options.timeline;
  });
  const what = [options.lint && 'lints', options.timeline && 'the timeline'].filter(Boolean).join(' and ');
  emit([`Loopscope ${what} of ${options.module ? `-m ${options.module}` : options.program} (Python ${runtime.hello.python}); the program runs freely`]);
  await runtime.request('setTaskFilters', { filters: [], ...(options.blockedMs !== undefined ? { loopBlockedMs: options.blockedMs } : {}) });
  if (options.timeline) await runtime.request('exitReport', { timeline: true });
  await runtime.request('start', { stepStatistics: options.timeline ? 'tasks' : 'loops', ...(options.record ? { record: options.record } : {}) });
  const exit = await runtime.whenExited();
  if (options.lint) {
    emit([`── ${lints.length} lint${lints.length === 1 ? '' : 's'} ──`, ...lints.map((lint) => lintLine(lint, cwd))]);
  }
  if (options.timeline) {
    emit([timelineWritten ? `── timeline written to ${timelineWritten} (open it in https://ui.perfetto.dev or chrome://tracing) ──`
      : '── no timeline: the program ended before Loopscope could write it (os._exit or a signal) ──']);
  }
  emit([`── program exited with code ${exit.code}${exit.signal ? ` (${exit.signal})` : ''} ──`]);
  return exit.code ?? 1;
}
