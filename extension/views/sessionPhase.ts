// Whether a Loopscope session is stopped, running or over, followed from the DAP messages a debug
// adapter tracker sees, plus the facts of the current stop (body.loopscope of the stopped event).
// No `vscode` import: sessionModel.ts feeds it, test/views/ drives it with plain messages.
import type { DapEventExtensions, StopDetails } from '../adapter/protocol';
import { loopPosition } from './viewItem';

export type Phase = 'starting' | 'running' | 'stopped' | 'ended';

/** What the adapter says about a stop: DAP's own fields, and Loopscope's (body.loopscope, protocol.json StopDetails). */
export type StopFacts = { threadId?: number; reason: string; description?: string } & Partial<StopDetails>;

/** Requests that let the program run; the tracker sees them before the adapter answers. */
const RESUMING = new Set(['continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'goto', 'loopscope/stepIteration']);

/** Requests that change a paused program: once they succeed, what was fetched for the stop is stale. */
const CHANGING = new Set(['loopscope/cancelTask', 'loopscope/advanceClock', 'setVariable', 'setExpression']);

interface DapMessage {
  type?: string;
  seq?: number;
  command?: string;
  event?: string;
  request_seq?: number;
  success?: boolean;
  body?: Record<string, unknown>;
  arguments?: Record<string, unknown>;
}

export class SessionPhase {
  phase: Phase = 'starting';
  stop: StopFacts | undefined;
  /** Counts stops (and refreshes): anything fetched for an older generation is stale. */
  generation = 0;
  /** Resume requests not answered yet, with the stop they left. */
  private readonly resuming = new Map<number, StopFacts | undefined>();
  /** Changing requests not answered yet. */
  private readonly changing = new Set<number>();

  constructor(private readonly changed: () => void) {}

  /** A message from VS Code to the adapter. */
  fromClient(message: unknown): void {
    const m = message as DapMessage;
    if (m.type !== 'request' || !m.command || this.phase === 'ended') return;
    // Code typed in the Debug Console may create, cancel or wake tasks; hovers and watches should not.
    const changes = CHANGING.has(m.command) || (m.command === 'evaluate' && m.arguments?.context === 'repl');
    if (changes && typeof m.seq === 'number') this.changing.add(m.seq);
    if (!RESUMING.has(m.command)) return;
    // Mark running when the request goes out, not when it is answered: a short step can send its
    // stopped event before the response to the request that started it.
    if (typeof m.seq === 'number') this.resuming.set(m.seq, this.stop);
    this.enter('running', undefined);
  }

  /** A message from the adapter to VS Code. */
  fromAdapter(message: unknown): void {
    const m = message as DapMessage;
    if (this.phase === 'ended') return;
    if (m.type === 'event') {
      switch (m.event) {
        case 'stopped': return this.enter('stopped', stopFacts(m.body ?? {}));
        case 'continued': return this.enter('running', undefined);
        case 'terminated': case 'exited': return this.end();
      }
      return;
    }
    if (m.type === 'response' && typeof m.request_seq === 'number' && this.changing.has(m.request_seq)) {
      this.changing.delete(m.request_seq);
      if (m.success === false) return;
      // The clock moved: every place that shows the loop time follows it, the status bar too.
      if (m.command === 'loopscope/advanceClock' && typeof m.body?.time === 'number' && this.stop) {
        this.stop = { ...this.stop, time: m.body.time };
      }
      this.refresh();
      return;
    }
    if (m.type === 'response' && typeof m.request_seq === 'number' && this.resuming.has(m.request_seq)) {
      const before = this.resuming.get(m.request_seq);
      this.resuming.delete(m.request_seq);
      // The program did not run after all (the adapter refused): show the stop again, refetched.
      if (m.success === false && this.phase === 'running' && before) this.enter('stopped', before);
    }
  }

  /** Drop what was fetched for this stop, so the views ask again (after Cancel Task, Refresh...). */
  refresh(): void {
    if (this.phase === 'stopped') this.enter('stopped', this.stop);
  }

  end(): void {
    if (this.phase === 'ended') return;
    this.resuming.clear();
    this.changing.clear();
    this.enter('ended', undefined);
  }

  private enter(phase: Phase, stop: StopFacts | undefined): void {
    if (phase === this.phase && phase !== 'stopped') return;
    this.phase = phase;
    this.stop = stop;
    this.generation += 1;
    this.changed();
  }
}

function stopFacts(body: Record<string, unknown>): StopFacts {
  const facts: StopFacts = { reason: typeof body.reason === 'string' ? body.reason : 'stopped' };
  if (typeof body.threadId === 'number') facts.threadId = body.threadId;
  // The adapter puts the stop's short label in description (beside the thread's name) and its
  // sentence in text; the status bar's tooltip wants the sentence.
  const sentence = typeof body.text === 'string' ? body.text : body.description;
  if (typeof sentence === 'string') facts.description = sentence;
  return { ...facts, ...(body as DapEventExtensions['stopped']).loopscope };
}

/** The status bar while paused: 'Loop before iteration 42 · t=12.345'; undefined when there is nothing to say. */
export function statusBarText(stop: StopFacts | undefined): string | undefined {
  if (!stop || stop.iteration === undefined) return undefined;
  const time = stop.time !== undefined ? ` · t=${stop.time.toFixed(3)}` : '';
  return `Loop ${loopPosition(stop.iteration, stop.where)}${time}`;
}

/** Its tooltip: the stop's own sentence, and what happens next. */
export function statusBarTooltip(stop: StopFacts): string {
  const lines = [stop.description ?? `Paused (${stop.reason})`];
  if (stop.where === 'handle' && stop.handle) {
    lines.push(`Next handle: ${stop.handle.taskName ? `task ${stop.handle.taskName} (${stop.handle.callback})` : stop.handle.callback}`);
  } else if (stop.iteration !== undefined) {
    lines.push(stop.where === 'iteration' ? `Next: iteration ${(stop.iteration + 1).toLocaleString('en-US')}`
      : `Step Loop Iteration finishes iteration ${stop.iteration.toLocaleString('en-US')}`);
  }
  lines.push('Click to show the Event Loop view.');
  return lines.join('\n');
}
