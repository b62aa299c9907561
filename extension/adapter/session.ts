// The Debug Adapter Protocol session: one handler per DAP request, translating to the runtime's
// requests (runtimeConnection.ts) and its events back to DAP events. No `vscode` import: this runs
// standalone as dist/debugAdapter.js for any DAP client.
import {
  BreakpointEvent, ContinuedEvent, DebugSession, Event, ExitedEvent, InitializedEvent, OutputEvent, Response, Scope, Source,
  StackFrame, StoppedEvent, TerminatedEvent, Thread, ThreadEvent,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { basename } from 'node:path';
import { ChildOffer, ChildProcessPort } from './childProcesses';
import { readEnvFile } from './envFile';
import { checkLaunchArguments } from './launchCheck';
import { LAUNCH_OPTIONS_SCHEMA, LaunchRequestArguments } from './launchOptions';
import {
  CustomDapRequests, DapEventExtensions, FORWARDED_DAP_REQUESTS, RuntimeEvents, RuntimeRequestName, RuntimeRequests, SourceBreakpoint,
  START_DEFAULTS, TASK_FILTER_DESCRIPTIONS,
  TASK_FILTER_LABELS, TASK_FILTER_VALUES, TaskFilter,
} from './protocol';
import { checkDapRequest } from './requestCheck';
import { launchWithPythonFallback, OutputSink, RuntimeConnection, RuntimeLaunchOptions, TerminalStarter } from './runtimeConnection';

/** The task filters, offered as exception breakpoint filters. */
export const TASK_FILTERS: DebugProtocol.ExceptionBreakpointsFilter[] = TASK_FILTER_VALUES.map((filter) => ({
  filter, label: TASK_FILTER_LABELS[filter], description: TASK_FILTER_DESCRIPTIONS[filter], default: false,
}));

/** How long a graceful end waits for the program when launch.json says nothing (terminateTimeout). */
const TERMINATE_TIMEOUT_S = LAUNCH_OPTIONS_SCHEMA.properties.terminateTimeout.default;
/** How long the client gets to answer a reverse request (runInTerminal, startDebugging). */
const CLIENT_ANSWER_MS = 10_000;

/** A child session's attach configuration (childProcesses.ts): where its child process waits for it. */
interface ChildProcessAttachment {
  port: number;
  token: string;
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
  private taskFilters: TaskFilter[] = [];
  /** The program is being ended (or let go) on purpose: its end is not news to the user. */
  private terminating = false;
  /** A graceful end under way (terminate): a disconnect during it ends the program at once. */
  private ending: Promise<unknown> | undefined;
  /** What the client said it can do in its initialize request. */
  private client: DebugProtocol.InitializeRequestArguments = { adapterID: '' };
  /** The launch (or child attach) configuration in force: restart reuses it when given none. */
  private config: LaunchRequestArguments | undefined;
  /** The port for the program's child processes (subProcess). */
  private childPort: ChildProcessPort | undefined;
  /** This session debugs a child process of another session's program (attach with childProcess). */
  private isChildSession = false;
  private maxTaskThreads: number = START_DEFAULTS.maxTaskThreads;
  private lastTasksNotListed = 0;
  private lastStoppedThread: number | undefined;
  private endedSent = false;
  /** Where DAP messages go (the adapter's stdout): the program's output waits while it is backed up. */
  private clientStream: OutputSink | undefined;

  /** The handler of each standard request Loopscope answers (requestCheck.ts has checked its arguments). */
  private readonly handlers: Readonly<Record<string, Handler>> = {
    launch: this.launchRequest,
    attach: this.attachRequest,
    restart: this.restartRequest,
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

  protected initializeRequest(response: DebugProtocol.InitializeResponse, args: DebugProtocol.InitializeRequestArguments): void {
    this.client = args;
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsFunctionBreakpoints: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsEvaluateForHovers: true,
      supportsTerminateRequest: true,
      supportTerminateDebuggee: true,
      supportsRestartRequest: true,
      supportsLogPoints: true,
      supportsExceptionInfoRequest: true,
      exceptionBreakpointFilters: TASK_FILTERS,
    };
    this.sendResponse(response);
  }

  protected async launchRequest(response: DebugProtocol.LaunchResponse, args: LaunchRequestArguments): Promise<void> {
    const problem = checkLaunchArguments(args);
    if (problem) return this.fail(response, ErrorId.BadLaunch, problem);
    this.config = args;
    await this.begin(response, args, 'launch', () => this.startRuntime(args));
  }

  /** A child session (subProcess): take over the child process the parent session's adapter holds. */
  protected async attachRequest(response: DebugProtocol.AttachResponse, args: DebugProtocol.AttachRequestArguments): Promise<void> {
    const child = (args as { childProcess?: Partial<ChildProcessAttachment> }).childProcess;
    if (!child || typeof child.port !== 'number' || typeof child.token !== 'string') {
      return this.fail(response, ErrorId.BadLaunch, 'Loopscope attaches only to the child processes of a program it launched ' +
        '(set "subProcess": true in the launch configuration; each child gets a session of its own). Use "request": "launch".');
    }
    const config = args as LaunchRequestArguments;
    const problem = checkLaunchArguments({ ...config, program: 'child', module: undefined });
    if (problem) return this.fail(response, ErrorId.BadLaunch, problem);
    this.config = config;
    this.isChildSession = true;
    await this.begin(response, config, 'attachForSuspendedLaunch', async () => {
      const runtime = await RuntimeConnection.adopt(child.port!, child.token!);
      await this.openChildPort(config);
      return runtime;
    });
  }

  /** The rest of a launch or attach: the runtime connects, the client configures, the program starts. */
  private async begin(response: DebugProtocol.Response, config: LaunchRequestArguments,
    startMethod: DebugProtocol.ProcessEvent['body']['startMethod'], connect: () => Promise<RuntimeConnection>): Promise<void> {
    let runtime: RuntimeConnection;
    try {
      runtime = this.runtime = await connect();
    } catch (error) {
      return this.fail(response, ErrorId.BadLaunch, (error as Error).message);
    }
    this.announce(runtime, startMethod);
    this.sendEvent(new InitializedEvent());
    await this.configured;
    if (await this.configureAndStart(runtime, config, response)) this.sendResponse(response);
  }

  /**
   * restart: end the program as terminate does (its cleanup runs, its output is shown), then launch it
   * again with the configuration the client sends (or the same one), in this session: breakpoints,
   * function breakpoints and filters stay. The old program's end is not reported as the session's.
   */
  protected async restartRequest(response: DebugProtocol.RestartResponse, args: DebugProtocol.RestartArguments): Promise<void> {
    if (this.isChildSession) {
      return this.fail(response, ErrorId.Unsupported, 'A child process cannot be restarted on its own: restart the session of the program that started it.');
    }
    const config = { ...(this.config ?? {}), ...((args.arguments ?? {}) as LaunchRequestArguments) } as LaunchRequestArguments;
    const problem = checkLaunchArguments(config);
    if (problem) return this.fail(response, ErrorId.BadLaunch, problem);
    const old = this.runtime;
    this.runtime = undefined; // its events and its end are no longer this session's
    if (old) {
      await (this.ending ?? old.terminate(this.terminateTimeoutMs()));
      this.ending = undefined;
      if (this.lastStoppedThread !== undefined) this.sendEvent(new ContinuedEvent(this.lastStoppedThread, true));
    }
    this.childPort?.close();
    this.childPort = undefined;
    this.config = config;
    this.terminating = false;
    try {
      this.runtime = await this.startRuntime(config);
    } catch (error) {
      this.fail(response, ErrorId.BadLaunch, (error as Error).message);
      return this.sendEnded(null);
    }
    this.announce(this.runtime, 'launch');
    if (await this.configureAndStart(this.runtime, config, response)) this.sendResponse(response);
  }

  /** Start the program as the configuration says: in a terminal or spawned, with its environment file. */
  private async startRuntime(args: LaunchRequestArguments): Promise<RuntimeConnection> {
    // A relative program is taken from cwd when one is given, else from the adapter's own directory.
    const program = args.program !== undefined ? path.resolve(args.cwd ?? process.cwd(), args.program) : undefined;
    const cwd = args.cwd ?? (program ? path.dirname(program) : process.cwd());
    const fromFile = args.envFile !== undefined ? readEnvFile(path.resolve(cwd, args.envFile), process.env) : {};
    const options: Omit<RuntimeLaunchOptions, 'python'> & { python?: string } = {
      python: args.python, program, module: args.module, args: args.args ?? [], cwd, env: { ...fromFile, ...(args.env ?? {}) },
    };
    await this.openChildPort(args);
    const console = args.console ?? 'internalConsole';
    if (console !== 'internalConsole') {
      if (this.client.supportsRunInTerminalRequest) {
        return RuntimeConnection.launchInTerminal({ ...options, python: args.python ?? 'python3' },
          this.terminalStarter(console === 'externalTerminal' ? 'external' : 'integrated'), `Loopscope: ${basename(program ?? args.module ?? 'python')}`);
      }
      this.sendEvent(new OutputEvent(`[loopscope] This debugger client cannot start a terminal (it does not offer runInTerminal), ` +
        `so the program runs with "console": "internalConsole": its output is shown here and its input is empty.\n`, 'console'));
    }
    const runtime = await launchWithPythonFallback(options);
    if (this.clientStream) runtime.throttleOutputBy(this.clientStream);
    return runtime;
  }

  /** The client's runInTerminal, as runtimeConnection.ts asks for it. */
  private terminalStarter(kind: 'integrated' | 'external'): TerminalStarter {
    return (command) => new Promise((resolve, reject) => {
      const request: DebugProtocol.RunInTerminalRequestArguments = { kind, title: command.title, cwd: command.cwd, args: command.args, env: command.env };
      this.runInTerminalRequest(request, CLIENT_ANSWER_MS, (answer) => {
        if (answer.success) resolve();
        else reject(new Error(answer.message || 'the client refused to start a terminal'));
      });
    });
  }

  /** With subProcess: the port where the program's child processes connect (childProcesses.ts). */
  private async openChildPort(args: LaunchRequestArguments): Promise<void> {
    if (!args.subProcess || this.childPort) return;
    this.childPort = await ChildProcessPort.open((child) => this.offerChild(child),
      (message) => this.sendEvent(new OutputEvent(`[loopscope] ${message}\n`, 'console')));
  }

  /** Ask the client for a session for a child process (DAP's startDebugging): resolves false when it has none to give. */
  private offerChild(child: ChildOffer): Promise<boolean> {
    if (!this.client.supportsStartDebuggingRequest) return Promise.resolve(false);
    const inherited: Record<string, unknown> = {};
    for (const name of CHILD_INHERITS) {
      const value = (this.config as Record<string, unknown> | undefined)?.[name];
      if (value !== undefined) inherited[name] = value;
    }
    const configuration = {
      ...inherited, type: 'loopscope', request: 'attach',
      name: `Child process ${child.hello.pid}: ${child.hello.target ?? 'python'}`,
      childProcess: { port: child.port, token: child.token } satisfies ChildProcessAttachment,
    };
    return new Promise((resolve) => {
      this.sendRequest('startDebugging', { request: 'attach', configuration }, CLIENT_ANSWER_MS, (answer) => resolve(answer.success));
    });
  }

  /** DAP's process event (clients show the program's name and pid, and tests find the process). */
  private announce(runtime: RuntimeConnection, startMethod: DebugProtocol.ProcessEvent['body']['startMethod']): void {
    this.listen(runtime);
    const config = this.config;
    const name = runtime.hello.target && startMethod !== 'launch' ? runtime.hello.target
      : config?.program !== undefined ? path.resolve(config.cwd ?? process.cwd(), config.program) : config?.module ?? 'python';
    const processBody: DebugProtocol.ProcessEvent['body'] = { name, systemProcessId: runtime.pid, isLocalProcess: true, startMethod };
    this.sendEvent(new Event('process', processBody));
  }

  /** The configuration requests' breakpoints and filters to the runtime, then start; false once the
   * response has been failed (and the program ended). */
  private async configureAndStart(runtime: RuntimeConnection, args: LaunchRequestArguments, response: DebugProtocol.Response): Promise<boolean> {
    try {
      await runtime.request('setFunctionBreakpoints', { breakpoints: this.functionBreakpoints.map(toRuntimeBreakpoint) });
      await runtime.request('setTaskFilters', { filters: this.taskFilters });
      for (const [path, breakpoints] of this.lineBreakpoints) {
        const { breakpoints: results } = await runtime.request('setBreakpoints', { path, breakpoints });
        for (const result of results) {
          this.sendEvent(new BreakpointEvent('changed', { ...result, source: new Source(basename(path), path) } as DebugProtocol.Breakpoint));
        }
      }
      const start: RuntimeRequests['start']['arguments'] = {
        stopOnEntry: args.stopOnEntry, maxTaskThreads: args.maxTaskThreads, clock: args.clock, justMyCode: args.justMyCode,
        taskSwitchHistory: args.taskSwitchHistory,
      };
      if (this.childPort) start.subProcesses = { port: this.childPort.port, key: this.childPort.key };
      // Output to a terminal is the terminal's; redirectOutput copies it here too.
      if (args.redirectOutput && (args.console ?? 'internalConsole') !== 'internalConsole' && !runtime.outputComesHere) start.copyOutput = true;
      // Left out, an option takes the runtime's default (START_DEFAULTS), the same as launch.json's.
      await runtime.request('start', Object.fromEntries(Object.entries(start).filter(([, v]) => v !== undefined)));
      this.maxTaskThreads = args.maxTaskThreads ?? START_DEFAULTS.maxTaskThreads;
    } catch (error) {
      // The program must not live on, held before its start, behind a session that failed.
      const ended = runtime.hasExited;
      this.terminating = true;
      await runtime.kill();
      this.fail(response, ErrorId.Runtime, ended
        ? `The program ended before it could start: ${(error as Error).message}`
        : `Loopscope could not start the program, and ended it: ${(error as Error).message}`);
      return false;
    }
    return true;
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

  protected async setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse,
    args: DebugProtocol.SetExceptionBreakpointsArguments): Promise<void> {
    const known = new Set<string>(TASK_FILTER_VALUES);
    const unknown = args.filters.filter((f) => !known.has(f));
    if (unknown.length) {
      return this.fail(response, ErrorId.Unsupported, `Unknown exception filter ${unknown.join(', ')}; Loopscope offers ${[...known].join(', ')}.`);
    }
    this.taskFilters = args.filters as TaskFilter[];
    response.body = { breakpoints: args.filters.map(() => ({ verified: true })) };
    if (!this.runtime || this.runtime.hasExited) return this.sendResponse(response);
    await this.forward(response, () => this.runtime!.request('setTaskFilters', { filters: this.taskFilters }));
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

  /**
   * disconnect: the session ends. terminateDebuggee true (the default) ends the program as terminate
   * does, waiting for it; a disconnect while a terminate is under way (a second Stop) ends it at once.
   * false lets it run on without Loopscope: its output, if it came here, goes to a file from now on.
   */
  protected async disconnectRequest(response: DebugProtocol.DisconnectResponse, args: DebugProtocol.DisconnectArguments): Promise<void> {
    this.configurationDone();
    const runtime = this.runtime;
    if (args.terminateDebuggee === false && runtime && !runtime.hasExited) {
      this.terminating = true;
      await this.detach(runtime);
    } else if (this.ending && runtime) {
      this.terminating = true;
      await runtime.kill();
    } else {
      await this.end();
    }
    this.childPort?.close();
    this.sendResponse(response);
  }

  /** terminate: KeyboardInterrupt in the program's main thread (held loops are released for it), then,
   * after terminateTimeout, SIGTERM and SIGKILL. Answered once the program has been interrupted; the
   * exited and terminated events follow when it has ended. */
  protected terminateRequest(response: DebugProtocol.TerminateResponse): void {
    if (!this.ending) void this.end();
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
      if (this.runtime !== runtime) return;
      this.lastStoppedThread = body.threadId;
      this.sendEvent(stoppedEvent(body));
    });
    runtime.onEvent('continued', (body) => this.sendEvent(new ContinuedEvent(body.threadId, true)));
    runtime.onEvent('loopStarted', (body) => this.sendEvent(new ThreadEvent('started', body.threadId)));
    runtime.onEvent('loopClosed', (body) => this.sendEvent(new ThreadEvent('exited', body.threadId)));
    runtime.onEvent('log', (body) => this.sendEvent(new OutputEvent(`[loopscope] ${body.message}\n`, 'console')));
    runtime.onEvent('logpoint', (body) => {
      const event = new OutputEvent(`${body.message}\n`, 'console') as DebugProtocol.OutputEvent;
      event.body.source = new Source(basename(body.path), body.path);
      event.body.line = body.line;
      this.sendEvent(event);
    });
    runtime.whenExited().then((exit) => {
      if (this.runtime !== runtime) return; // replaced by a restart: its end is not the session's
      if (exit.signal && !this.terminating) {
        this.sendEvent(new OutputEvent(`Program was killed by ${exit.signal}.\n`, 'console'));
      } else if (exit.code === null) {
        this.sendEvent(new OutputEvent('[loopscope] The program has ended (how, Loopscope cannot tell: it was not started by the ' +
          'debugger, and ended without the runtime\'s notice, by os._exit() or a signal).\n', 'console'));
      } else if (!this.terminating) {
        this.sendEvent(new OutputEvent(`[loopscope] Program exited with code ${exit.code}.\n`, 'console'));
      }
      this.sendEnded(exit.code);
    });
  }

  private sendEnded(exitCode: number | null): void {
    if (this.endedSent) return;
    this.endedSent = true;
    this.childPort?.close();
    if (exitCode !== null) this.sendEvent(new ExitedEvent(exitCode));
    this.sendEvent(new TerminatedEvent());
  }

  /** End the program gracefully (terminate); resolves once it is gone. */
  private end(): Promise<unknown> {
    this.terminating = true;
    this.configurationDone();
    if (!this.runtime) return Promise.resolve();
    this.ending ??= this.runtime.terminate(this.terminateTimeoutMs());
    return this.ending;
  }

  private terminateTimeoutMs(): number {
    return (this.config?.terminateTimeout ?? TERMINATE_TIMEOUT_S) * 1000;
  }

  /** Let the program run on without Loopscope, and say where its output goes now. */
  private async detach(runtime: RuntimeConnection): Promise<void> {
    const outputFile = runtime.outputComesHere
      ? path.join(os.tmpdir(), `loopscope-${runtime.pid}-${randomBytes(4).toString('hex')}.log`) : undefined;
    let said: string;
    try {
      const problem = await runtime.detach(outputFile);
      said = `The program (process ${runtime.pid}) runs on without Loopscope.` + (outputFile
        ? ` Its output goes to ${problem ? `/dev/null: ${problem}` : outputFile} from now on.` : '');
    } catch (error) {
      said = `Loopscope could not let the program run on (${(error as Error).message}), so it was ended.`;
      await runtime.kill();
    }
    this.sendEvent(new OutputEvent(`[loopscope] ${said}\n`, 'console'));
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

/** The options a child session takes from its parent's configuration. */
const CHILD_INHERITS = ['justMyCode', 'clock', 'maxTaskThreads', 'taskSwitchHistory', 'subProcess', 'terminateTimeout', 'redirectOutput', 'console'];

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
  (event.body as DapEventExtensions['stopped']).loopscope = loopscope;
  return event;
}
