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
  ARGUMENT_DEFAULTS, CustomDapRequests, DapEventExtensions, FORWARDED_DAP_REQUESTS, RuntimeEvents, RuntimeRequestName, RuntimeRequests,
  SourceBreakpoint, START_DEFAULTS, TASK_FILTER_CONDITIONS, TASK_FILTER_DESCRIPTIONS, TASK_FILTER_LABELS, TASK_FILTER_VALUES, TaskFilter,
} from './protocol';
import { checkDapRequest } from './requestCheck';
import { launchWithPythonFallback, OutputSink, RuntimeConnection } from './runtimeConnection';
import { hashSeedEnvironment, removeSessionFiles, sessionRecordingPath, snapshotRecording, WayBack } from './timeTravel';

/** The task filters, offered as exception breakpoint filters (those that take a condition say what it means). */
export const TASK_FILTERS: DebugProtocol.ExceptionBreakpointsFilter[] = TASK_FILTER_VALUES.map((filter) => {
  const condition = TASK_FILTER_CONDITIONS[filter];
  return {
    filter, label: TASK_FILTER_LABELS[filter], description: TASK_FILTER_DESCRIPTIONS[filter], default: false,
    ...(condition ? { supportsCondition: true, conditionDescription: condition } : {}),
  };
});

const DEFAULT_LOOP_BLOCKED_MS: number = ARGUMENT_DEFAULTS.setTaskFilters.loopBlockedMs;

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
  private taskFilters: TaskFilter[] = [];
  private loopBlockedMs: number = DEFAULT_LOOP_BLOCKED_MS;
  private terminating = false;
  private maxTaskThreads: number = START_DEFAULTS.maxTaskThreads;
  private lastTasksNotListed = 0;
  private lastStoppedThread: number | undefined;
  private endedSent = false;
  /** Where DAP messages go (the adapter's stdout): the program's output waits while it is backed up. */
  private clientStream: OutputSink | undefined;
  /** How the program was launched: a step back launches it again the same way. */
  private launchArgs: LaunchRequestArguments | undefined;
  /** The file this session records to (record, or a replay's own): what a step back replays. */
  private recording: string | undefined;
  /** The recording the running program replays (launch.json's replay, or a copy going back made). */
  private replaying: string | undefined;
  /** The last stop shown, while the program is held there: where a step back starts from. */
  private heldAt: RuntimeEvents['stopped'] | undefined;
  /** A re-run on its way back in time: which of its stops are shown (timeTravel.ts). */
  private wayBack: { route: WayBack; shown: (stop: RuntimeEvents['stopped']) => boolean; started: number } | undefined;

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
    stepBack: this.stepBackRequest,
    reverseContinue: this.reverseContinueRequest,
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
      supportsExceptionFilterOptions: true,
      supportsStepBack: true,
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
    this.launchArgs = { ...args, program, cwd };
    if (args.replay !== undefined) this.launchArgs.replay = path.resolve(cwd, args.replay);
    this.recording = sessionRecordingPath({ record: args.record, replay: args.replay, explore: args.explore, program, module: args.module, cwd });
    this.replaying = this.launchArgs.replay;
    try {
      this.runtime = await this.launchRuntime(this.launchArgs.replay);
    } catch (error) {
      return this.fail(response, ErrorId.BadLaunch, (error as Error).message);
    }
    // DAP's process event: clients show the program's name and pid (and tests find the process).
    const processBody: DebugProtocol.ProcessEvent['body'] = {
      name: program ?? args.module ?? 'python', systemProcessId: this.runtime.pid, isLocalProcess: true, startMethod: 'launch',
    };
    this.sendEvent(new Event('process', processBody));
    this.sendEvent(new InitializedEvent());
    await this.configured;
    try {
      await this.startRuntime(this.runtime, { stopOnEntry: args.stopOnEntry, replay: this.launchArgs.replay, record: this.recording,
        explore: args.explore });
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

  /** A runtime for the launch configuration, listened to; not started yet. replaying: the recording
   * it will replay, whose hash seed it takes. */
  private async launchRuntime(replaying?: string): Promise<RuntimeConnection> {
    const args = this.launchArgs!;
    const env = { ...args.env ?? {}, ...(this.recording ? hashSeedEnvironment(args.env ?? {}, replaying) : {}) };
    const runtime = await launchWithPythonFallback({
      python: args.python, program: args.program, module: args.module, args: args.args ?? [], cwd: args.cwd!, env,
    });
    this.listen(runtime);
    if (this.clientStream) runtime.throttleOutputBy(this.clientStream);
    return runtime;
  }

  /** The configuration (breakpoints, filters), then the start request: the program runs. */
  private async startRuntime(runtime: RuntimeConnection, extra: { stopOnEntry?: boolean; replay?: string; record?: string;
    replayTo?: { loop: number; iteration: number }; explore?: { seed: number; jitter?: number } }): Promise<void> {
    const args = this.launchArgs!;
    await runtime.request('setFunctionBreakpoints', { breakpoints: this.functionBreakpoints.map(toRuntimeBreakpoint) });
    await runtime.request('setTaskFilters', { filters: this.taskFilters, loopBlockedMs: this.loopBlockedMs });
    for (const [path, breakpoints] of this.lineBreakpoints) {
      const { breakpoints: results } = await runtime.request('setBreakpoints', { path, breakpoints });
      for (const result of results) {
        this.sendEvent(new BreakpointEvent('changed', { ...result, source: new Source(basename(path), path) } as DebugProtocol.Breakpoint));
      }
    }
    const start = {
      stopOnEntry: extra.stopOnEntry, maxTaskThreads: args.maxTaskThreads, clock: args.clock, justMyCode: args.justMyCode,
      taskSwitchHistory: args.taskSwitchHistory, trackOwners: args.trackOwners, stepStatistics: args.stepStatistics,
      loopBlockedWarnings: args.loopBlockedWarnings, record: extra.record, replay: extra.replay,
      replayTo: extra.replayTo, explore: extra.explore,
    };
    // Left out, an option takes the runtime's default (START_DEFAULTS), the same as launch.json's.
    await runtime.request('start', Object.fromEntries(Object.entries(start).filter(([, v]) => v !== undefined)));
  }

  /** stepBack: to the boundary before the iteration the program is held in (or the one before it, when
   * held at a boundary), by running the program again under replay of the session's recording. */
  protected async stepBackRequest(response: DebugProtocol.StepBackResponse): Promise<void> {
    const from = this.backFrom(response);
    if (!from) return;
    await this.goBack(response, from, new WayBack('to iteration'), { loop: from.loopIndex ?? 0, iteration: from.iteration - 1 }, () => true);
  }

  /** reverseContinue: to the latest hit of a breakpoint (or filter) before the iteration the program is
   * held in. Two re-runs: one to that iteration, counting the hits on the way, one to the last of them. */
  protected async reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): Promise<void> {
    const from = this.backFrom(response);
    if (!from) return;
    const target = { loop: from.loopIndex ?? 0, iteration: from.iteration - 1 };
    const first = new WayBack('to iteration');
    await this.goBack(response, from, first, target, (arrived) => {
      if (first.hits === 0) {
        this.sendEvent(new OutputEvent(`[loopscope] No breakpoint was hit before iteration ${from.iteration}: held where it began.\n`, 'console'));
        return true;
      }
      void this.goBack(undefined, arrived, new WayBack('to hit', first.hits), undefined, () => true);
      return false;
    });
  }

  /** Where the program is held, if the session can go back from there; else answers the request. */
  private backFrom(response: DebugProtocol.Response): RuntimeEvents['stopped'] | undefined {
    if (!this.recording) {
      this.fail(response, ErrorId.Unsupported, 'Going back needs a recording: set "record": true (or "replay": FILE) in launch.json and debug again.');
      return undefined;
    }
    const from = this.heldAt;
    if (!from || !this.runtime || this.runtime.hasExited) {
      this.fail(response, ErrorId.NotRunning, 'The program is not held: pause it first, then step back.');
      return undefined;
    }
    if (from.iteration < 1) {
      this.fail(response, ErrorId.Unsupported, 'The program is at its first iteration: there is nothing before it to go back to.');
      return undefined;
    }
    return from;
  }

  /** End this run of the program and run it again, replaying the session's recording (and recording
   * anew to the same file), until the way back shows a stop. */
  private async goBack(response: DebugProtocol.Response | undefined, from: RuntimeEvents['stopped'], route: WayBack,
    target: { loop: number; iteration: number } | undefined, shown: (stop: RuntimeEvents['stopped']) => boolean): Promise<void> {
    const started = Date.now();
    const old = this.runtime;
    this.runtime = undefined; // its last events and its exit are no longer the session's
    this.heldAt = undefined;
    if (old) {
      this.sendEvent(new ContinuedEvent(this.lastStoppedThread ?? 0, true));
      await old.terminate();
    }
    try {
      // Still inside the replayed recording: that one holds the run beyond this point too (the new
      // recording stops where the program was ended). Past it: the new recording is the timeline.
      const source = from.replaying && this.replaying ? this.replaying : snapshotRecording(this.recording!);
      this.replaying = source;
      const runtime = await this.launchRuntime(source);
      if (this.terminating) {
        await runtime.terminate(); // the user ended the session meanwhile
        return;
      }
      this.runtime = runtime;
      this.wayBack = { route, shown, started };
      await this.startRuntime(runtime, { replay: source, record: this.recording, replayTo: target });
    } catch (error) {
      this.wayBack = undefined;
      const message = `Loopscope could not go back: ${(error as Error).message}`;
      this.sendEvent(new OutputEvent(`[loopscope] ${message}\n`, 'important'));
      if (response) this.fail(response, ErrorId.Runtime, message);
      if (this.runtime) await this.runtime.terminate();
      this.sendEnded(1);
      return;
    }
    if (response) this.sendResponse(response);
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
    const results: DebugProtocol.Breakpoint[] = args.filters.map(() => ({ verified: true }));
    const filters = new Set(args.filters as TaskFilter[]);
    let loopBlockedMs = DEFAULT_LOOP_BLOCKED_MS;
    for (const option of options) {
      const filter = option.filterId as TaskFilter;
      if (filter !== 'loopBlocked') {
        results.push(option.condition ? { verified: false, message: `${TASK_FILTER_LABELS[filter]} takes no condition.` } : { verified: true });
        if (!option.condition) filters.add(filter);
        continue;
      }
      const threshold = parseLoopBlockedThreshold(option.condition, DEFAULT_LOOP_BLOCKED_MS);
      if ('error' in threshold) {
        results.push({ verified: false, message: threshold.error });
        continue;
      }
      loopBlockedMs = threshold.ms;
      filters.add(filter);
      results.push({ verified: true });
    }
    this.taskFilters = [...filters];
    this.loopBlockedMs = loopBlockedMs;
    response.body = { breakpoints: results };
    if (!this.runtime || this.runtime.hasExited) return this.sendResponse(response);
    await this.forward(response, () => this.runtime!.request('setTaskFilters', { filters: this.taskFilters, loopBlockedMs }));
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
    runtime.on('output', (category, text) => {
      // A re-run on its way back prints again what the user has seen: only what comes after is shown.
      if (runtime === this.runtime && !this.wayBack) this.sendEvent(new OutputEvent(text, category));
    });
    runtime.on('log', (message) => this.sendEvent(new OutputEvent(`[loopscope] ${message}\n`, 'console')));
    runtime.onEvent('stopped', (body) => {
      if (runtime !== this.runtime) return; // a run ended by a step back
      const way = this.wayBack;
      if (way) {
        if (way.route.onStop(body) === 'pass') {
          runtime.request('resume', { mode: 'continue', threadId: body.loopId }).catch(() => undefined);
          return;
        }
        this.wayBack = undefined;
        if (!way.shown(body)) return;
        this.sendEvent(new OutputEvent(`[loopscope] Back at iteration ${body.iteration} of loop ${body.loopIndex ?? 0}: the program ran again `
          + `from its start under replay in ${Date.now() - way.started} ms.\n`, 'console'));
      }
      this.lastStoppedThread = body.threadId;
      this.heldAt = body;
      this.sendEvent(stoppedEvent(body));
    });
    runtime.onEvent('continued', (body) => {
      if (runtime !== this.runtime || this.wayBack) return;
      this.heldAt = undefined;
      this.sendEvent(new ContinuedEvent(body.threadId, true));
    });
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
      if (runtime !== this.runtime && (this.runtime !== undefined || !this.terminating)) return; // replaced by a step back
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
    if (this.recording) removeSessionFiles(this.recording, this.launchArgs?.record === undefined);
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
    this.heldAt = undefined;
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
  const loopscope: DapEventExtensions['stopped']['loopscope'] = {
    loopId: body.loopId, iteration: body.iteration, time: body.time, where: body.where,
  };
  if (body.handle) loopscope.handle = body.handle;
  if (body.lastHandle) loopscope.lastHandle = body.lastHandle;
  if (body.loopIndex !== undefined) loopscope.loopIndex = body.loopIndex;
  if (body.replaying !== undefined) loopscope.replaying = body.replaying;
  (event.body as DapEventExtensions['stopped']).loopscope = loopscope;
  return event;
}
