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
import { ATTACH_OPTIONS_SCHEMA, AttachRequestArguments } from './attachOptions';
import { checkAttachArguments, processIdOf } from './attachCheck';
import { ChildOffer, ChildProcessPort } from './childProcesses';
import { readEnvFile } from './envFile';
import { checkLaunchArguments } from './launchCheck';
import { LAUNCH_OPTIONS_SCHEMA, LaunchRequestArguments } from './launchOptions';
import { connectToListener } from './listenConnection';
import { parseLoopBlockedThreshold } from './loopBlockedThreshold';
import { attachToProcess } from './processAttach';
import {
  ARGUMENT_DEFAULTS, CustomDapRequests, DapEventExtensions, ExceptionClassOption, ExceptionFilterOption, FORWARDED_DAP_REQUESTS,
  RuntimeEvents, RuntimeRequestName, RuntimeRequests, SourceBreakpoint, START_DEFAULTS, TASK_FILTER_CONDITIONS, TASK_FILTER_DESCRIPTIONS,
  TASK_FILTER_LABELS, TASK_FILTER_VALUES, TaskFilter,
} from './protocol';
import { checkDapRequest } from './requestCheck';
import { describeProcess } from './pythonProcess';
import { ReadOnlyRuntime } from './readOnlyRuntime';
import { launchWithPythonFallback, OutputSink, RuntimeConnection, RuntimeLaunchOptions, RuntimeLink, TerminalStarter } from './runtimeConnection';
import { startArguments } from './startArguments';
import { hashSeedEnvironment, removeSessionFiles, sessionRecordingPath, snapshotRecording, WayBack } from './timeTravel';

/** The task filters and exception filters, offered as exception breakpoint filters (those that take a condition say what it means). */
export const TASK_FILTERS: DebugProtocol.ExceptionBreakpointsFilter[] = TASK_FILTER_VALUES.map((filter) => {
  const condition = TASK_FILTER_CONDITIONS[filter];
  return {
    filter, label: TASK_FILTER_LABELS[filter], description: TASK_FILTER_DESCRIPTIONS[filter], default: false,
    ...(condition ? { supportsCondition: true, conditionDescription: condition } : {}),
  };
});

const DEFAULT_LOOP_BLOCKED_MS: number = ARGUMENT_DEFAULTS.setTaskFilters.loopBlockedMs;

/** How long a graceful end waits for the program when launch.json says nothing (terminateTimeout). */
const TERMINATE_TIMEOUT_S = LAUNCH_OPTIONS_SCHEMA.properties.terminateTimeout.default;
/** How long the client gets to answer a reverse request (runInTerminal, startDebugging). */
const CLIENT_ANSWER_MS = 10_000;

/** What the runtime's start takes from a launch or attach configuration. */
type StartOptions = Partial<Pick<LaunchRequestArguments, 'stopOnEntry' | 'maxTaskThreads' | 'clock' | 'justMyCode' | 'taskSwitchHistory' |
  'stepStatistics' | 'loopBlockedWarnings' | 'redirectOutput' | 'console'>>;

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
  private runtime: RuntimeLink | undefined;
  private configurationDone!: () => void;
  private readonly configured = new Promise<void>((resolve) => { this.configurationDone = resolve; });
  private functionBreakpoints: DebugProtocol.FunctionBreakpoint[] = [];
  /** Line breakpoints by file, kept to send again when the runtime connects. */
  private readonly lineBreakpoints = new Map<string, SourceBreakpoint[]>();
  private exceptionSettings: ExceptionSettings = { filters: [], loopBlockedMs: DEFAULT_LOOP_BLOCKED_MS };
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
  /** Attached to a program Loopscope did not start: the session ends with a detach, never by ending it. */
  private attached: { pid: number; local: boolean } | undefined;
  private detaching = false;
  /** Where DAP messages go (the adapter's stdout): the program's output waits while it is backed up. */
  private clientStream: OutputSink | undefined;
  /** How the program was launched (program and cwd made absolute): a step back launches it again the same way. */
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
    stepBack: this.stepBackRequest,
    reverseContinue: this.reverseContinueRequest,
    pause: this.pauseRequest,
    stackTrace: this.stackTraceRequest,
    scopes: this.scopesRequest,
    variables: this.variablesRequest,
    evaluate: this.evaluateRequest,
    setVariable: this.setVariableRequest,
    setExpression: this.setExpressionRequest,
    completions: this.completionsRequest,
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
      // Stop on an attached session: VS Code then says terminateDebuggee, and the adapter detaches;
      // the extension asks before ending a program Loopscope did not start (endAttachedProgram.ts).
      supportTerminateDebuggee: true,
      supportsRestartRequest: true,
      supportsLogPoints: true,
      supportsExceptionInfoRequest: true,
      supportsExceptionOptions: true,
      supportsExceptionFilterOptions: true,
      supportsSetVariable: true,
      supportsSetExpression: true,
      supportsCompletionsRequest: true,
      completionTriggerCharacters: ['.', '['],
      supportsStepBack: true,
      exceptionBreakpointFilters: TASK_FILTERS,
    };
    this.sendResponse(response);
  }

  protected async launchRequest(response: DebugProtocol.LaunchResponse, args: LaunchRequestArguments): Promise<void> {
    if (this.runtime) return this.fail(response, ErrorId.BadLaunch, ONE_PROGRAM);
    const problem = checkLaunchArguments(args);
    if (problem) return this.fail(response, ErrorId.BadLaunch, problem);
    this.config = args;
    this.prepareRecording(args);
    await this.begin(response, args, 'launch', () => this.startRuntime(args, this.replaying));
  }

  /**
   * attach, in one of three forms (attachCheck.ts): to a running program by process id
   * (processAttach.ts), to one that listens for Loopscope (listenConnection.ts), or, as a child
   * session (subProcess), to the child process the parent session's adapter holds for it. From then
   * on the session is a launched one's, but that a program Loopscope joined ends with a detach.
   */
  protected async attachRequest(response: DebugProtocol.AttachResponse, args: AttachRequestArguments): Promise<void> {
    if (this.runtime) return this.fail(response, ErrorId.BadLaunch, ONE_PROGRAM);
    const problem = checkAttachArguments(args);
    if (problem) return this.fail(response, ErrorId.BadLaunch, problem);
    const child = args.childProcess;
    if (child) {
      const config = args as unknown as LaunchRequestArguments;
      this.config = config;
      this.isChildSession = true;
      return this.begin(response, config, 'attachForSuspendedLaunch', async () => {
        const runtime = await RuntimeConnection.adopt(child.port, child.token);
        await this.openChildPort(config);
        return runtime;
      });
    }
    // An attach holds every loop unless told not to: its own default, declared in attachOptions.json.
    const start: StartOptions = { ...args, stopOnEntry: args.stopOnEntry ?? ATTACH_OPTIONS_SCHEMA.properties.stopOnEntry.default };
    await this.begin(response, start, 'attach', async () => {
      const pid = processIdOf(args.processId);
      if (pid !== undefined) {
        const attached = await attachToProcess({ pid, gdb: args.gdb ?? ATTACH_OPTIONS_SCHEMA.properties.gdb.default });
        this.attached = { pid, local: true };
        if (attached.kind === 'read-only') {
          this.log(`${attached.why}\nRead-only: Loopscope shows the program's threads, loops and tasks, read from outside as ` +
            '`python -m asyncio pstree` reads them; it cannot hold, step or evaluate anything there. Pause reads them again.');
          return ReadOnlyRuntime.open(pid, attached.facts.python!.join('.'), attached.interpreter);
        }
        this.log(`Attached to process ${pid} (Python ${attached.facts.python!.join('.')}, ${attached.method}) in ${attached.seconds.toFixed(2)} s.`);
        return attached.connection;
      }
      const connect = args.connect!;
      const runtime = await connectToListener(connect);
      this.attached = { pid: runtime.hello.pid, local: isLoopback(connect.host ?? ATTACH_OPTIONS_SCHEMA.properties.connect.properties.host.default) };
      this.log(`Connected to process ${runtime.hello.pid} (Python ${runtime.hello.python}) listening on ${connect.host ?? '127.0.0.1'}:${connect.port}.`);
      return runtime;
    });
  }

  /** The rest of a launch or attach: the runtime connects, the client configures, the program starts. */
  private async begin(response: DebugProtocol.Response, config: StartOptions,
    startMethod: DebugProtocol.ProcessEvent['body']['startMethod'], connect: () => Promise<RuntimeLink>): Promise<void> {
    let runtime: RuntimeLink;
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
    if (this.attached) {
      return this.fail(response, ErrorId.Unsupported, 'Loopscope did not start this program, so it cannot start it again: ' +
        'disconnect (the program runs on) and attach to it again.');
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
    this.prepareRecording(config);
    try {
      this.runtime = await this.startRuntime(config, this.replaying);
    } catch (error) {
      this.fail(response, ErrorId.BadLaunch, (error as Error).message);
      return this.sendEnded(null);
    }
    this.announce(this.runtime, 'launch');
    if (await this.configureAndStart(this.runtime, config, response)) this.sendResponse(response);
  }

  /** Where this session records and what it replays (time travel: timeTravel.ts), from a launch configuration. */
  private prepareRecording(args: LaunchRequestArguments): void {
    const program = args.program !== undefined ? path.resolve(args.cwd ?? process.cwd(), args.program) : undefined;
    const cwd = args.cwd ?? (program ? path.dirname(program) : process.cwd());
    this.launchArgs = { ...args, program, cwd };
    if (args.replay !== undefined) this.launchArgs.replay = path.resolve(cwd, args.replay);
    this.recording = sessionRecordingPath({ record: args.record, replay: args.replay, explore: args.explore, program, module: args.module, cwd });
    this.replaying = this.launchArgs.replay;
  }

  /** Start the program as the configuration says: in a terminal or spawned, with its environment file.
   * replaying: the recording it will replay, whose hash seed it takes. */
  private async startRuntime(args: LaunchRequestArguments, replaying?: string): Promise<RuntimeConnection> {
    // A relative program is taken from cwd when one is given, else from the adapter's own directory.
    const program = args.program !== undefined ? path.resolve(args.cwd ?? process.cwd(), args.program) : undefined;
    const cwd = args.cwd ?? (program ? path.dirname(program) : process.cwd());
    const fromFile = args.envFile !== undefined ? readEnvFile(path.resolve(cwd, args.envFile), process.env) : {};
    const options: Omit<RuntimeLaunchOptions, 'python'> & { python?: string } = {
      python: args.python, program, module: args.module, args: args.args ?? [], cwd,
      env: { ...fromFile, ...(args.env ?? {}), ...(this.recording ? hashSeedEnvironment(args.env ?? {}, replaying) : {}) },
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
      childProcess: { port: child.port, token: child.token } satisfies AttachRequestArguments['childProcess'],
    };
    return new Promise((resolve) => {
      this.sendRequest('startDebugging', { request: 'attach', configuration }, CLIENT_ANSWER_MS, (answer) => resolve(answer.success));
    });
  }

  /** DAP's process event (clients show the program's name and pid, and tests find the process). */
  private announce(runtime: RuntimeLink, startMethod: DebugProtocol.ProcessEvent['body']['startMethod']): void {
    this.listen(runtime);
    if (this.attached) {
      const processBody: DebugProtocol.ProcessEvent['body'] = {
        name: runtime.hello.executable, systemProcessId: this.attached.pid, isLocalProcess: this.attached.local, startMethod,
      };
      return this.sendEvent(new Event('process', processBody));
    }
    const config = this.config;
    const name = runtime.hello.target && startMethod !== 'launch' ? runtime.hello.target
      : config?.program !== undefined ? path.resolve(config.cwd ?? process.cwd(), config.program) : config?.module ?? 'python';
    const processBody: DebugProtocol.ProcessEvent['body'] = { name, systemProcessId: runtime.pid, isLocalProcess: true, startMethod };
    this.sendEvent(new Event('process', processBody));
  }

  /** The configuration requests' breakpoints and filters to the runtime, then start; false once the
   * response has been failed (and the program ended). */
  private async configureAndStart(runtime: RuntimeLink, args: StartOptions, response: DebugProtocol.Response): Promise<boolean> {
    try {
      const launched = this.launchArgs;
      await this.startProgram(runtime, args, launched ? { replay: launched.replay, record: this.recording, explore: launched.explore } : {});
      this.maxTaskThreads = args.maxTaskThreads ?? START_DEFAULTS.maxTaskThreads;
    } catch (error) {
      const ended = runtime.hasExited;
      if (this.attached) {
        // Never end a program Loopscope did not start: take everything out of it again.
        await this.detach();
        this.fail(response, ErrorId.Runtime, `Loopscope could not start its session and detached: ${(error as Error).message}`);
        return false;
      }
      // The program must not live on, held before its start, behind a session that failed.
      this.terminating = true;
      await runtime.kill();
      this.fail(response, ErrorId.Runtime, ended
        ? `The program ended before it could start: ${(error as Error).message}`
        : `Loopscope could not start the program, and ended it: ${(error as Error).message}`);
      return false;
    }
    return true;
  }

  /** The configuration (breakpoints, filters), then the start request: the configuration's settings
   * (startArguments), child processes, copied output, and a recording's settings (time travel). */
  private async startProgram(runtime: RuntimeLink, args: StartOptions, timeTravel: { replay?: string; record?: string;
    replayTo?: { loop: number; iteration: number }; explore?: { seed: number; jitter?: number } }): Promise<void> {
    await runtime.request('setFunctionBreakpoints', { breakpoints: this.functionBreakpoints.map(toRuntimeBreakpoint) });
    await runtime.request('setTaskFilters', this.exceptionSettings);
    for (const [path, breakpoints] of this.lineBreakpoints) {
      const { breakpoints: results } = await runtime.request('setBreakpoints', { path, breakpoints });
      for (const result of results) {
        this.sendEvent(new BreakpointEvent('changed', { ...result, source: new Source(basename(path), path) } as DebugProtocol.Breakpoint));
      }
    }
    const start: RuntimeRequests['start']['arguments'] = {
      ...startArguments(args as Record<string, unknown>),
      ...Object.fromEntries(Object.entries(timeTravel).filter(([, v]) => v !== undefined)),
    };
    if (this.childPort) start.subProcesses = { port: this.childPort.port, key: this.childPort.key };
    // Output to a terminal is the terminal's; redirectOutput copies it here too.
    if (args.redirectOutput && (args.console ?? 'internalConsole') !== 'internalConsole' && !runtime.outputComesHere) start.copyOutput = true;
    await runtime.request('start', start);
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
  private backFrom(response: DebugProtocol.Response): (RuntimeEvents['stopped'] & { iteration: number }) | undefined {
    if (!this.recording || this.attached || this.isChildSession) {
      this.fail(response, ErrorId.Unsupported, 'Going back needs a recording: set "record": true (or "replay": FILE) in launch.json and debug again.');
      return undefined;
    }
    const from = this.heldAt;
    if (!from || !this.runtime || this.runtime.hasExited) {
      this.fail(response, ErrorId.NotRunning, 'The program is not held: pause it first, then step back.');
      return undefined;
    }
    if (from.iteration === undefined) {
      this.fail(response, ErrorId.Unsupported, 'Going back works from a stop on an event loop; this stop is on a thread that runs no loop: continue to a stop in a loop first.');
      return undefined;
    }
    if (from.iteration < 1) {
      this.fail(response, ErrorId.Unsupported, 'The program is at its first iteration: there is nothing before it to go back to.');
      return undefined;
    }
    return { ...from, iteration: from.iteration };
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
      await old.kill(); // its recording is on disk up to the stop; its own clean-up would only run again
    }
    try {
      // Still inside the replayed recording: that one holds the run beyond this point too (the new
      // recording stops where the program was ended). Past it: the new recording is the timeline.
      const source = from.replaying && this.replaying ? this.replaying : snapshotRecording(this.recording!);
      this.replaying = source;
      const runtime = await this.startRuntime(this.config!, source);
      this.listen(runtime);
      if (this.terminating) {
        await runtime.kill(); // the user ended the session meanwhile
        return;
      }
      this.runtime = runtime;
      this.wayBack = { route, shown, started };
      // A way back holds where it arrives, not at the program's entry.
      await this.startProgram(runtime, { ...this.config!, stopOnEntry: false }, { replay: source, record: this.recording, replayTo: target });
    } catch (error) {
      this.wayBack = undefined;
      const message = `Loopscope could not go back: ${(error as Error).message}`;
      this.sendEvent(new OutputEvent(`[loopscope] ${message}\n`, 'important'));
      if (response) this.fail(response, ErrorId.Runtime, message);
      if (this.runtime) await this.runtime.kill();
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

  /**
   * disconnect: the session ends. A program Loopscope attached to is detached from and runs on
   * (terminateDebuggee true is not Loopscope's to do to it: the extension asks its user first,
   * endAttachedProgram.ts). A launched one: terminateDebuggee true (the default) ends it as terminate
   * does, waiting for it; a disconnect while a terminate is under way (a second Stop) ends it at once;
   * false lets it run on without Loopscope, its output, if it came here, going to a file from now on.
   */
  /** setVariable: the value is an expression, evaluated in the frame the variable was reached from. */
  protected async setVariableRequest(response: DebugProtocol.SetVariableResponse, args: DebugProtocol.SetVariableArguments): Promise<void> {
    await this.forward(response, async () => {
      response.body = await this.live().request('setVariable', {
        variablesReference: args.variablesReference, name: args.name, value: args.value,
      });
    });
  }

  protected async setExpressionRequest(response: DebugProtocol.SetExpressionResponse, args: DebugProtocol.SetExpressionArguments): Promise<void> {
    await this.forward(response, async () => {
      const request: { expression: string; value: string; frameId?: number } = { expression: args.expression, value: args.value };
      if (args.frameId !== undefined) request.frameId = args.frameId;
      response.body = await this.live().request('setExpression', request);
    });
  }

  /** completions: the runtime completes the end of the cursor's line up to the cursor; each target
   * replaces that fragment (length, in UTF-16 code units like DAP's columns; no start, so that the
   * client inserts at the cursor). */
  protected async completionsRequest(response: DebugProtocol.CompletionsResponse, args: DebugProtocol.CompletionsArguments): Promise<void> {
    await this.forward(response, async () => {
      const lines = args.text.split('\n');
      const lineIndex = Math.min(Math.max((args.line !== undefined ? this.convertClientLineToDebugger(args.line) : 1) - 1, 0), lines.length - 1);
      const column = this.convertClientColumnToDebugger(args.column);
      const before = lines[lineIndex].slice(0, Math.max(column - 1, 0));
      const request: { text: string; frameId?: number } = { text: before };
      if (args.frameId !== undefined) request.frameId = args.frameId;
      const { targets, fragment } = await this.live().request('completions', request);
      const width = String(targets.length).length;
      response.body = {
        targets: targets.map((target, index) => {
          const item: DebugProtocol.CompletionItem = { label: target.label, text: target.label, sortText: String(index).padStart(width, '0') };
          if (target.type) item.type = target.type as DebugProtocol.CompletionItemType;
          if (fragment.length) item.length = fragment.length;
          return item;
        }),
      };
    });
  }

  protected async disconnectRequest(response: DebugProtocol.DisconnectResponse, args: DebugProtocol.DisconnectArguments): Promise<void> {
    this.configurationDone();
    const runtime = this.runtime;
    if (this.attached) {
      await this.detach(args.terminateDebuggee === true);
    } else if (args.terminateDebuggee === false && runtime && !runtime.hasExited) {
      await this.detach();
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
   * exited and terminated events follow when it has ended. A program Loopscope attached to is left
   * running: detached from (the client asks its user before ending it, endAttachedProgram.ts). */
  protected async terminateRequest(response: DebugProtocol.TerminateResponse): Promise<void> {
    if (this.attached) await this.detach(true);
    else if (!this.ending) void this.end();
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

  private listen(runtime: RuntimeLink): void {
    runtime.on('output', (category, text) => {
      // A re-run on its way back prints again what the user has seen: only what comes after is shown.
      if (runtime === this.runtime && !this.wayBack) this.sendEvent(new OutputEvent(text, category));
    });
    runtime.on('log', (message) => this.sendEvent(new OutputEvent(`[loopscope] ${message}\n`, 'console')));
    runtime.onEvent('stopped', (body) => {
      if (this.runtime !== runtime) return; // a run ended by a restart or a step back
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
      // 'console', not 'important': VS Code shows important output as a notification, and the
      // extension shows one of its own (deadlockNotice.ts), with Pause and Show Asyncio Tasks.
      this.sendEvent(new OutputEvent(`[loopscope] ${deadlock.description}${tasks ? ` Tasks: ${tasks}${more}.` : ''}\n`, 'console'));
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
    runtime.whenExited().then(async (exit) => {
      if (this.runtime !== runtime && (this.runtime !== undefined || !this.terminating)) return; // replaced by a restart or a step back
      if (exit.connectionOnly) {
        if (!this.terminating) await this.tellConnectionLost();
        this.sendEnded(0);
        return;
      }
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

  /** An attached program's connection closed without a detach: it exited (its descriptors close as
   * it exits: give it a moment to be gone), or Loopscope's runtime in it went. */
  private async tellConnectionLost(): Promise<void> {
    const pid = this.attached?.pid;
    const gone = () => { const facts = describeProcess(pid!); return !facts || facts.state === 'Z' || facts.state === 'X'; };
    for (let waited = 0; this.attached?.local && !gone() && waited < EXIT_GRACE_MS; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (this.attached?.local && gone()) this.log(`Process ${pid} exited.`);
    else this.log(`The connection to process ${pid} closed; Loopscope is no longer attached to it.`);
  }

  private sendEnded(exitCode: number | null): void {
    if (this.endedSent) return;
    this.endedSent = true;
    this.childPort?.close();
    if (this.recording) removeSessionFiles(this.recording, this.launchArgs?.record === undefined);
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

  /**
   * Let the program run on without Loopscope (the runtime's detach): an attached one as it was, the
   * session then over; a launched one (disconnect with terminateDebuggee false) with its output, if it
   * came here, going to a file from now on. asked: the client wanted an attached program ended, which
   * Loopscope does not do to a program it did not start.
   */
  private async detach(asked = false): Promise<void> {
    const runtime = this.runtime;
    this.configurationDone();
    if (!runtime || this.detaching) return;
    this.detaching = true;
    this.terminating = true;
    const attached = this.attached;
    const pid = attached?.pid ?? runtime.pid;
    if (!runtime.hasExited) {
      const outputFile = !attached && runtime.outputComesHere
        ? path.join(os.tmpdir(), `loopscope-${pid}-${randomBytes(4).toString('hex')}.log`) : undefined;
      try {
        const answer = await runtime.detach(outputFile);
        for (const note of answer.notes ?? []) this.log(note);
        this.log(attached
          ? `Detached from process ${pid}${asked ? ', which Loopscope did not start, so it was not ended' : ''}; it runs on without Loopscope.`
          : `The program (process ${pid}) runs on without Loopscope.` + (outputFile
            ? ` Its output goes to ${answer.problem ? `/dev/null: ${answer.problem}` : outputFile} from now on.` : ''));
      } catch (error) {
        if (attached) {
          this.log(`Detaching from process ${pid} failed: ${(error as Error).message}. It runs on; Loopscope's runtime in it ` +
            'detaches by itself when this connection closes.');
          await runtime.kill(); // the connection only: the program is not Loopscope's to end
        } else {
          this.log(`Loopscope could not let the program run on (${(error as Error).message}), so it was ended.`);
          await runtime.kill();
        }
      }
    }
    if (attached) this.sendEnded(0);
  }

  private log(message: string): void {
    this.sendEvent(new OutputEvent(`[loopscope] ${message}\n`, 'console'));
  }

  private live(): RuntimeLink {
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

const ONE_PROGRAM = 'A Loopscope session debugs one program, and this one has its program already: start another session for another.';

/** How long an attached program whose connection closed gets to be seen gone before it is said to live on. */
const EXIT_GRACE_MS = 1_000;

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
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
  const loopscope: DapEventExtensions['stopped']['loopscope'] = { where: body.where };
  // A stop on a thread that runs no loop has no loop facts.
  if (body.loopId !== undefined) loopscope.loopId = body.loopId;
  if (body.iteration !== undefined) loopscope.iteration = body.iteration;
  if (body.time !== undefined) loopscope.time = body.time;
  if (body.handle) loopscope.handle = body.handle;
  if (body.lastHandle) loopscope.lastHandle = body.lastHandle;
  if (body.loopIndex !== undefined) loopscope.loopIndex = body.loopIndex;
  if (body.replaying !== undefined) loopscope.replaying = body.replaying;
  (event.body as DapEventExtensions['stopped']).loopscope = loopscope;
  return event;
}
