// The Debug Adapter Protocol session: one handler per DAP request, translating to the runtime's
// requests (runtimeConnection.ts) and its events back to DAP events. No `vscode` import: this runs
// standalone as dist/debugAdapter.js for any DAP client.
import {
  BreakpointEvent, ContinuedEvent, DebugSession, Event, ExitedEvent, InitializedEvent, OutputEvent, Response, Scope, Source,
  StackFrame, StoppedEvent, TerminatedEvent, Thread, ThreadEvent,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import * as path from 'node:path';
import { basename } from 'node:path';
import { checkLaunchArguments } from './launchCheck';
import { LaunchRequestArguments } from './launchOptions';
import { parseLoopBlockedThreshold } from './loopBlockedThreshold';
import {
  ARGUMENT_DEFAULTS, CustomDapRequests, DapEventExtensions, ExceptionClassOption, ExceptionFilterOption, FORWARDED_DAP_REQUESTS,
  RuntimeEvents, RuntimeRequestName, RuntimeRequests, SourceBreakpoint, START_DEFAULTS, TASK_FILTER_CONDITIONS, TASK_FILTER_DESCRIPTIONS,
  TASK_FILTER_LABELS, TASK_FILTER_VALUES, TaskFilter,
} from './protocol';
import { checkDapRequest } from './requestCheck';
import { launchWithPythonFallback, OutputSink, RuntimeConnection } from './runtimeConnection';

/** The task filters and exception filters, offered as exception breakpoint filters (those that take a condition say what it means). */
export const TASK_FILTERS: DebugProtocol.ExceptionBreakpointsFilter[] = TASK_FILTER_VALUES.map((filter) => {
  const condition = TASK_FILTER_CONDITIONS[filter];
  return {
    filter, label: TASK_FILTER_LABELS[filter], description: TASK_FILTER_DESCRIPTIONS[filter], default: false,
    ...(condition ? { supportsCondition: true, conditionDescription: condition } : {}),
  };
});

const DEFAULT_LOOP_BLOCKED_MS: number = ARGUMENT_DEFAULTS.setTaskFilters.loopBlockedMs;

type ExceptionSettings = RuntimeRequests['setTaskFilters']['arguments'];

/** DAP's exception options as the runtime takes them: the exception category ('Python Exceptions') left out, class names
 * from the path's last segment. */
function toClassOption(option: DebugProtocol.ExceptionOptions): ExceptionClassOption {
  const path = (option.path ?? []).filter((segment, index) =>
    !(index === 0 && !segment.negate && segment.names.some((name) => /^python exceptions$/i.test(name.trim()))));
  const segment = path[path.length - 1];
  const result: ExceptionClassOption = { names: segment?.names ?? [], breakMode: option.breakMode };
  if (segment?.negate) result.negate = true;
  return result;
}

/** DAP error ids for failures the user can fix. */
const enum ErrorId {
  BadLaunch = 1001,
  NotRunning = 1002,
  Runtime = 1003,
  Unsupported = 1004,
  /** A request that breaks DAP's schema (or protocol.json's, for Loopscope's own). */
  BadRequest = 1005,
  /** A fault of Loopscope's own while handling a request. */
  Internal = 1006,
}

// `any`: each handler takes its own request's response and arguments.
type Handler = (response: any, args: any, request: DebugProtocol.Request) => void | Promise<void>;

// DebugSession, not LoggingDebugSession: the latter stringifies every message for its logger and
// keeps them all until the logger is set up (the soak test saw the adapter's heap grow with each stop).
export class LoopscopeSession extends DebugSession {
  private runtime: RuntimeConnection | undefined;
  private configurationDone!: () => void;
  private readonly configured = new Promise<void>((resolve) => { this.configurationDone = resolve; });
  private functionBreakpoints: DebugProtocol.FunctionBreakpoint[] = [];
  /** Line breakpoints by file, kept to send again when the runtime connects. */
  private readonly lineBreakpoints = new Map<string, SourceBreakpoint[]>();
  private exceptionSettings: ExceptionSettings = { filters: [], loopBlockedMs: DEFAULT_LOOP_BLOCKED_MS };
  private terminating = false;
  private maxTaskThreads: number = START_DEFAULTS.maxTaskThreads;
  private lastTasksNotListed = 0;
  private lastStoppedThread: number | undefined;
  private endedSent = false;
  /** Where DAP messages go (the adapter's stdout): the program's output waits while it is backed up. */
  private clientStream: OutputSink | undefined;

  /** The handler of each standard request Loopscope answers (requestCheck.ts has checked its arguments). */
  private readonly handlers: Readonly<Record<string, Handler>> = {
    launch: this.launchRequest,
    configurationDone: this.configurationDoneRequest,
    setBreakpoints: this.setBreakPointsRequest,
    setFunctionBreakpoints: this.setFunctionBreakPointsRequest,
    setExceptionBreakpoints: this.setExceptionBreakPointsRequest,
    exceptionInfo: this.exceptionInfoRequest,
    threads: this.threadsRequest,
    continue: this.continueRequest,
    next: this.nextRequest,
    stepIn: this.stepInRequest,
    stepOut: this.stepOutRequest,
    pause: this.pauseRequest,
    stackTrace: this.stackTraceRequest,
    scopes: this.scopesRequest,
    variables: this.variablesRequest,
    evaluate: this.evaluateRequest,
    disconnect: this.disconnectRequest,
    terminate: this.terminateRequest,
  };

  constructor() {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
  }

  start(inStream: NodeJS.ReadableStream, outStream: NodeJS.WritableStream): void {
    const stream = outStream as Partial<OutputSink>;
    if (typeof stream.writableLength === 'number') this.clientStream = stream as OutputSink;
    super.start(inStream, outStream);
  }

  /** Every request is checked before a handler sees it, and whatever a handler throws or rejects with
   * becomes an error response: a request never takes the adapter (and with it the program) down. */
  protected dispatchRequest(request: DebugProtocol.Request): void {
    const response = new Response(request);
    let verdict;
    try {
      verdict = checkDapRequest(request);
    } catch (error) {
      return this.internalError(response, error);
    }
    if (verdict.kind !== 'ok') {
      return this.fail(response, verdict.kind === 'unsupported' ? ErrorId.Unsupported : ErrorId.BadRequest, verdict.message);
    }
    if (request.command === 'initialize') {
      // DAP's default path format is 'path'; the base class refuses a client that leaves it out.
      request.arguments.pathFormat ??= 'path';
      return super.dispatchRequest(request); // sets the client's line and column bases, then initializeRequest
    }
    const handler = this.handlers[request.command];
    try {
      const done = handler
        ? handler.call(this, response, request.arguments ?? {}, request)
        : this.customRequest(request.command, response, request.arguments);
      if (done instanceof Promise) done.catch((error) => this.internalError(response, error));
    } catch (error) {
      this.internalError(response, error);
    }
  }

  /** A fault of Loopscope's own: answer the request with it (unless it was answered), and say so. */
  private internalError(response: DebugProtocol.Response, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.sendEvent(new OutputEvent(`[loopscope] Internal error while handling "${response.command}": ${
      error instanceof Error ? error.stack ?? message : message}\n`, 'console'));
    if (response.seq > 0) return; // already answered
    this.fail(response, ErrorId.Internal, `Loopscope failed to handle "${response.command}": ${message}`);
  }

  protected initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsFunctionBreakpoints: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsEvaluateForHovers: true,
      supportsTerminateRequest: true,
      supportsLogPoints: true,
      supportsExceptionInfoRequest: true,
      supportsExceptionOptions: true,
      supportsExceptionFilterOptions: true,
      exceptionBreakpointFilters: TASK_FILTERS,
    };
    this.sendResponse(response);
  }

  protected async launchRequest(response: DebugProtocol.LaunchResponse, args: LaunchRequestArguments): Promise<void> {
    const problem = checkLaunchArguments(args);
    if (problem) return this.fail(response, ErrorId.BadLaunch, problem);
    // A relative program is taken from cwd when one is given, else from the adapter's own directory.
    const program = args.program !== undefined ? path.resolve(args.cwd ?? process.cwd(), args.program) : undefined;
    const cwd = args.cwd ?? (program ? path.dirname(program) : process.cwd());
    try {
      this.runtime = await launchWithPythonFallback({
        python: args.python,
        program,
        module: args.module,
        args: args.args ?? [],
        cwd,
        env: args.env ?? {},
      });
    } catch (error) {
      return this.fail(response, ErrorId.BadLaunch, (error as Error).message);
    }
    this.listen(this.runtime);
    if (this.clientStream) this.runtime.throttleOutputBy(this.clientStream);
    // DAP's process event: clients show the program's name and pid (and tests find the process).
    const processBody: DebugProtocol.ProcessEvent['body'] = {
      name: program ?? args.module ?? 'python', systemProcessId: this.runtime.pid, isLocalProcess: true, startMethod: 'launch',
    };
    this.sendEvent(new Event('process', processBody));
    this.sendEvent(new InitializedEvent());
    await this.configured;
    try {
      await this.runtime.request('setFunctionBreakpoints', { breakpoints: this.functionBreakpoints.map(toRuntimeBreakpoint) });
      await this.runtime.request('setTaskFilters', this.exceptionSettings);
      for (const [path, breakpoints] of this.lineBreakpoints) {
        const { breakpoints: results } = await this.runtime.request('setBreakpoints', { path, breakpoints });
        for (const result of results) {
          this.sendEvent(new BreakpointEvent('changed', { ...result, source: new Source(basename(path), path) } as DebugProtocol.Breakpoint));
        }
      }
      const start = {
        stopOnEntry: args.stopOnEntry, maxTaskThreads: args.maxTaskThreads, clock: args.clock, justMyCode: args.justMyCode,
        taskSwitchHistory: args.taskSwitchHistory, stepStatistics: args.stepStatistics, loopBlockedWarnings: args.loopBlockedWarnings,
      };
      // Left out, an option takes the runtime's default (START_DEFAULTS), the same as launch.json's.
      await this.runtime.request('start', Object.fromEntries(Object.entries(start).filter(([, v]) => v !== undefined)));
      this.maxTaskThreads = args.maxTaskThreads ?? START_DEFAULTS.maxTaskThreads;
    } catch (error) {
      // The program must not live on, held before its start, behind a session that failed.
      const ended = this.runtime.hasExited;
      this.terminating = true;
      await this.runtime.terminate();
      return this.fail(response, ErrorId.Runtime, ended
        ? `The program ended before it could start: ${(error as Error).message}`
        : `Loopscope could not start the program, and ended it: ${(error as Error).message}`);
    }
    this.sendResponse(response);
  }

  protected configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.configurationDone();
    this.sendResponse(response);
  }

  protected async setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse,
    args: DebugProtocol.SetFunctionBreakpointsArguments): Promise<void> {
    this.functionBreakpoints = args.breakpoints;
    if (!this.runtime || this.runtime.hasExited) {
      response.body = { breakpoints: args.breakpoints.map(() => ({ verified: true })) };
      return this.sendResponse(response);
    }
    await this.forward(response, async () => {
      const { breakpoints } = await this.runtime!.request('setFunctionBreakpoints', { breakpoints: args.breakpoints.map(toRuntimeBreakpoint) });
      response.body = { breakpoints };
    });
  }

  /** The filters ticked in the Breakpoints view; filterOptions carry a condition (Loop blocked's threshold). */
  protected async setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse,
    args: DebugProtocol.SetExceptionBreakpointsArguments): Promise<void> {
    const known = new Set<string>(TASK_FILTER_VALUES);
    const options = args.filterOptions ?? [];
    const unknown = [...args.filters, ...options.map((o) => o.filterId)].filter((f) => !known.has(f));
    if (unknown.length) {
      return this.fail(response, ErrorId.Unsupported, `Unknown exception filter ${unknown.join(', ')}; Loopscope offers ${[...known].join(', ')}.`);
    }
    // Loop blocked's threshold is read here; the exception filters' conditions (Python) go to the runtime, which answers
    // for them (and for the exception options); the other filters take no condition.
    const results: (DebugProtocol.Breakpoint | 'runtime')[] = args.filters.map(() => ({ verified: true }));
    const filters = new Set(args.filters as TaskFilter[]);
    const forwarded: ExceptionFilterOption[] = [];
    let loopBlockedMs = DEFAULT_LOOP_BLOCKED_MS;
    for (const option of options) {
      const filter = option.filterId as TaskFilter;
      if (filter === 'loopBlocked') {
        const threshold = parseLoopBlockedThreshold(option.condition, DEFAULT_LOOP_BLOCKED_MS);
        if ('error' in threshold) {
          results.push({ verified: false, message: threshold.error });
          continue;
        }
        loopBlockedMs = threshold.ms;
        filters.add(filter);
        results.push({ verified: true });
      } else if (TASK_FILTER_CONDITIONS[filter]) {
        forwarded.push({ filter, ...(option.condition ? { condition: option.condition } : {}) });
        results.push('runtime');
      } else {
        results.push(option.condition ? { verified: false, message: `${TASK_FILTER_LABELS[filter]} takes no condition.` } : { verified: true });
        if (!option.condition) filters.add(filter);
      }
    }
    const settings: ExceptionSettings = { filters: [...filters], loopBlockedMs };
    if (forwarded.length) settings.filterOptions = forwarded;
    if (args.exceptionOptions?.length) settings.exceptionOptions = args.exceptionOptions.map(toClassOption);
    this.exceptionSettings = settings;
    const answer = (fromRuntime: DebugProtocol.Breakpoint[]) => {
      const runtimeOptions = fromRuntime.slice(settings.filters.length); // its answers for the forwarded options, then the exception options
      const breakpoints = results.map((result) => result === 'runtime' ? runtimeOptions.shift() ?? { verified: true } : result);
      return { breakpoints: [...breakpoints, ...(args.exceptionOptions ?? []).map(() => runtimeOptions.shift() ?? { verified: true })] };
    };
    response.body = answer([]);
    if (!this.runtime || this.runtime.hasExited) return this.sendResponse(response);
    await this.forward(response, async () => {
      const { results: fromRuntime } = await this.runtime!.request('setTaskFilters', settings);
      if (fromRuntime) response.body = answer(fromRuntime);
    });
  }

  protected async setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): Promise<void> {
    const path = args.source.path;
    const wanted = (args.breakpoints ?? []).map((bp) => {
      const spec: SourceBreakpoint = { line: bp.line };
      if (bp.condition) spec.condition = bp.condition;
      if (bp.hitCondition) spec.hitCondition = bp.hitCondition;
      if (bp.logMessage) spec.logMessage = bp.logMessage;
      return spec;
    });
    if (!path) return this.fail(response, ErrorId.Unsupported, 'Loopscope sets breakpoints in files on disk; this source has no path.');
    this.lineBreakpoints.set(path, wanted);
    if (!this.runtime || this.runtime.hasExited) {
      response.body = { breakpoints: wanted.map((bp) => ({ verified: false, line: bp.line, message: 'The program is not running yet.' })) };
      return this.sendResponse(response);
    }
    await this.forward(response, async () => {
      const { breakpoints } = await this.runtime!.request('setBreakpoints', { path, breakpoints: wanted });
      response.body = { breakpoints: breakpoints.map((bp) => ({ ...bp, source: args.source })) };
    });
  }

  protected async exceptionInfoRequest(response: DebugProtocol.ExceptionInfoResponse): Promise<void> {
    await this.forward(response, async () => { response.body = await this.live().request('exceptionInfo', {}); });
  }

  protected async threadsRequest(response: DebugProtocol.ThreadsResponse): Promise<void> {
    if (!this.runtime || this.runtime.hasExited) {
      response.body = { threads: [] };
      return this.sendResponse(response);
    }
    await this.forward(response, async () => {
      const { threads, tasksNotListed } = await this.runtime!.request('threads', {});
      response.body = { threads: threads.map((t) => new Thread(t.id, t.name)) };
      if (tasksNotListed && tasksNotListed !== this.lastTasksNotListed) {
        this.sendEvent(new OutputEvent(`[loopscope] ${tasksNotListed} more tasks are not listed as threads (maxTaskThreads is ${this.maxTaskThreads}); the Asyncio Tasks view shows them all.\n`, 'console'));
      }
      this.lastTasksNotListed = tasksNotListed ?? 0;
    });
  }

  protected continueRequest(response: DebugProtocol.ContinueResponse, args: DebugProtocol.ContinueArguments): Promise<void> {
    response.body = { allThreadsContinued: true };
    return this.resume(response, 'continue', args.threadId);
  }

  /** next: in code, the next line of this coroutine (over awaits); elsewhere exactly one loop iteration. */
  protected nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): Promise<void> {
    return this.resume(response, 'over', args.threadId);
  }

  /** stepIn: in code, into calls and awaited coroutines; elsewhere until the next handle is about to run. */
  protected stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): Promise<void> {
    return this.resume(response, 'into', args.threadId);
  }

  /** stepOut: in code, back to the caller or awaiting coroutine; before a handle, finish the iteration;
   * between iterations, finish this run of the loop. */
  protected stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments): Promise<void> {
    return this.resume(response, 'out', args.threadId);
  }

  protected async pauseRequest(response: DebugProtocol.PauseResponse): Promise<void> {
    await this.forward(response, () => this.live().request('pause', {}));
  }

  protected async stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): Promise<void> {
    await this.forward(response, async () => {
      const { stackFrames, totalFrames } = await this.live().request('stackTrace', {
        threadId: args.threadId, startFrame: args.startFrame ?? 0, levels: args.levels ?? 0,
      });
      response.body = {
        totalFrames,
        stackFrames: stackFrames.map((f) => {
          const frame: DebugProtocol.StackFrame = new StackFrame(f.id, f.name,
            f.path ? new Source(path.basename(f.path), this.convertDebuggerPathToClient(f.path)) : undefined,
            this.convertDebuggerLineToClient(Math.max(f.line, 1)), 1);
          if (f.presentationHint) frame.presentationHint = f.presentationHint;
          return frame;
        }),
      };
    });
  }

  protected async scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): Promise<void> {
    await this.forward(response, async () => {
      const { scopes } = await this.live().request('scopes', { frameId: args.frameId });
      response.body = { scopes: scopes.map((s) => ({ ...new Scope(s.name, s.variablesReference, s.expensive ?? false), ...s })) };
    });
  }

  protected async variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): Promise<void> {
    await this.forward(response, async () => {
      response.body = await this.live().request('variables', {
        variablesReference: args.variablesReference, start: args.start ?? 0, count: args.count ?? 0,
        ...(args.filter ? { filter: args.filter } : {}),
      });
    });
  }

  protected async evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): Promise<void> {
    await this.forward(response, async () => {
      const request: { expression: string; frameId?: number; context?: string } = { expression: args.expression };
      if (args.frameId !== undefined) request.frameId = args.frameId;
      if (args.context !== undefined) request.context = args.context;
      response.body = await this.live().request('evaluate', request);
    });
  }

  protected async disconnectRequest(response: DebugProtocol.DisconnectResponse): Promise<void> {
    await this.end();
    this.sendResponse(response);
  }

  protected async terminateRequest(response: DebugProtocol.TerminateResponse): Promise<void> {
    await this.end();
    this.sendResponse(response);
  }

  protected async customRequest(command: string, response: DebugProtocol.Response, args: unknown): Promise<void> {
    // requestCheck.ts has checked the arguments of these against protocol.json's dapRequests.
    const given = (args ?? {}) as Record<string, unknown>;
    const forwarded = (FORWARDED_DAP_REQUESTS as Record<string, RuntimeRequestName>)[command];
    if (forwarded) {
      return this.forward(response, async () => { response.body = await this.live().request(forwarded, given as never); });
    }
    switch (command as keyof CustomDapRequests) {
      case 'loopscope/stepIteration': {
        // VS Code does not know a custom request resumes the program: tell it, before the next stop can come.
        const threadId = typeof given.threadId === 'number' ? given.threadId : this.lastStoppedThread;
        return this.resume(response, 'iteration', threadId ?? 0);
      }
      default:
        this.fail(response, ErrorId.Unsupported, `Loopscope does not know the request "${command}".`);
    }
  }

  // --- helpers ---

  private listen(runtime: RuntimeConnection): void {
    runtime.on('output', (category, text) => this.sendEvent(new OutputEvent(text, category)));
    runtime.on('log', (message) => this.sendEvent(new OutputEvent(`[loopscope] ${message}\n`, 'console')));
    runtime.onEvent('stopped', (body) => {
      this.lastStoppedThread = body.threadId;
      this.sendEvent(stoppedEvent(body));
    });
    runtime.onEvent('continued', (body) => this.sendEvent(new ContinuedEvent(body.threadId, true)));
    runtime.onEvent('loopStarted', (body) => this.sendEvent(new ThreadEvent('started', body.threadId)));
    runtime.onEvent('loopClosed', (body) => this.sendEvent(new ThreadEvent('exited', body.threadId)));
    runtime.onEvent('log', (body) => this.sendEvent(new OutputEvent(`[loopscope] ${body.message}\n`, 'console')));
    runtime.onEvent('deadlock', (body) => {
      const { deadlock } = body;
      const tasks = deadlock.tasks.map((t) => t.name).join(', ');
      const more = deadlock.total > deadlock.tasks.length ? ` and ${deadlock.total - deadlock.tasks.length} more` : '';
      this.sendEvent(new OutputEvent(`[loopscope] ${deadlock.description}${tasks ? ` Tasks: ${tasks}${more}.` : ''}\n`, 'important'));
      this.sendEvent(new Event('loopscope/deadlock', body));
    });
    // Lints go to the client as Loopscope's own event (VS Code's Problems panel shows them).
    runtime.onEvent('lint', (body) => this.sendEvent(new Event('loopscope/lint', body)));
    runtime.onEvent('logpoint', (body) => {
      const event = new OutputEvent(`${body.message}\n`, 'console') as DebugProtocol.OutputEvent;
      event.body.source = new Source(basename(body.path), body.path);
      event.body.line = body.line;
      this.sendEvent(event);
    });
    runtime.whenExited().then((exit) => {
      if (exit.signal && !this.terminating) {
        this.sendEvent(new OutputEvent(`Program was killed by ${exit.signal}.\n`, 'console'));
      } else if (!this.terminating) {
        this.sendEvent(new OutputEvent(`[loopscope] Program exited with code ${exit.code}.\n`, 'console'));
      }
      this.sendEnded(exit.code);
    });
  }

  private sendEnded(exitCode: number): void {
    if (this.endedSent) return;
    this.endedSent = true;
    this.sendEvent(new ExitedEvent(exitCode));
    this.sendEvent(new TerminatedEvent());
  }

  private async end(): Promise<void> {
    this.terminating = true;
    this.configurationDone();
    if (this.runtime) await this.runtime.terminate();
  }

  private live(): RuntimeConnection {
    if (!this.runtime || this.runtime.hasExited) throw new NotRunning('The program is not running.');
    return this.runtime;
  }

  private async resume(response: DebugProtocol.Response, mode: RuntimeRequests['resume']['arguments']['mode'], threadId: number): Promise<void> {
    // Said before the program can stop again, so that no client keeps a finished stop's details.
    if (this.runtime && !this.runtime.hasExited) this.sendEvent(new ContinuedEvent(threadId, true));
    await this.forward(response, () => this.live().request('resume', { mode, threadId }));
  }

  /** Run work, then answer; any failure becomes an error response with a readable message. */
  private async forward(response: DebugProtocol.Response, work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (error) {
      const id = error instanceof NotRunning ? ErrorId.NotRunning : ErrorId.Runtime;
      return this.fail(response, id, (error as Error).message);
    }
    this.sendResponse(response);
  }

  /** An error response; only failures the user caused (launch, bad settings) pop up in the UI. Requests
   * that lost a race with a resume or with the program's end just fail quietly. */
  private fail(response: DebugProtocol.Response, id: ErrorId, message: string): void {
    const showUser = id === ErrorId.BadLaunch || id === ErrorId.Unsupported;
    this.sendErrorResponse(response, { id, format: message.replace(/[{}]/g, (c) => (c === '{' ? '(' : ')')), showUser });
  }
}

class NotRunning extends Error {}

function toRuntimeBreakpoint(bp: DebugProtocol.FunctionBreakpoint) {
  const result: { name: string; condition?: string; hitCondition?: string } = { name: bp.name };
  if (bp.condition) result.condition = bp.condition;
  if (bp.hitCondition) result.hitCondition = bp.hitCondition;
  return result;
}

function stoppedEvent(body: RuntimeEvents['stopped']): DebugProtocol.StoppedEvent {
  const event = new StoppedEvent(body.reason, body.threadId) as DebugProtocol.StoppedEvent;
  // VS Code shows the description beside the thread's name: keep it short; the sentence goes in text.
  event.body.description = body.label;
  event.body.text = body.description;
  event.body.allThreadsStopped = true;
  if (body.hitBreakpointIds) event.body.hitBreakpointIds = body.hitBreakpointIds;
  // Loopscope's own facts about the stop, for the views and for clients that want them.
  const loopscope: DapEventExtensions['stopped']['loopscope'] = { where: body.where };
  // A stop on a thread that runs no loop has no loop facts.
  if (body.loopId !== undefined) loopscope.loopId = body.loopId;
  if (body.iteration !== undefined) loopscope.iteration = body.iteration;
  if (body.time !== undefined) loopscope.time = body.time;
  if (body.handle) loopscope.handle = body.handle;
  if (body.lastHandle) loopscope.lastHandle = body.lastHandle;
  (event.body as DapEventExtensions['stopped']).loopscope = loopscope;
  return event;
}
