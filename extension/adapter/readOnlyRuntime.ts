// A runtime stand-in for a 3.14+ program that lets no code in (PYTHON_DISABLE_REMOTE_DEBUG): its
// threads, event loops and tasks read from outside by the attach helper (loopscope/outside/
// task_tree.py, as `python -m asyncio pstree` reads them), answered as the runtime would answer, so
// that the Call Stack and the Asyncio Tasks view show them. Read-only: nothing holds, steps or
// evaluates; the program never stops. Pause reads it again.
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import * as path from 'node:path';
import { describeProcess } from './pythonProcess';
import { Hello, LoopSnapshot, PROTOCOL_VERSION, RuntimeEventName, RuntimeEvents, RuntimeRequestName, RuntimeRequests, StackFrame, TaskSnapshot } from './protocol';
import { findRuntimeDir, ProgramExit, RuntimeConnectionEvents, RuntimeLink } from './runtimeConnection';

const READ_ONLY = 'read-only: Loopscope cannot run anything in this program';
const EXIT_POLL_MS = 500;
const HELPER_DEADLINE_MS = 30_000;

interface Frame { function: string; path: string; line: number }
interface Tree {
  threads: { tid: number; name: string; frames: Frame[]; loop: 'idle' | 'running' | null }[];
  tasks: { id: number; name: string; thread: number; frames: Frame[]; awaitedBy: number[] }[];
}

export class ReadOnlyRuntime extends EventEmitter<RuntimeConnectionEvents> implements RuntimeLink {
  readonly hello: Hello;
  private tree: Tree = { threads: [], tasks: [] };
  private readonly events = new EventEmitter();
  /** DAP thread ids: one per Python thread, then one per task, kept across readings. */
  private readonly ids = new Map<string, number>();
  private lastFrameId = 0;
  private exitInfo: ProgramExit | undefined;
  private readonly exited: Promise<ProgramExit>;
  private endNow!: () => void;

  private constructor(readonly pid: number, python: string, private readonly interpreter: string, private readonly runtimeDir: string) {
    super();
    this.hello = { type: 'hello', token: '', protocolVersion: PROTOCOL_VERSION, pid, python, executable: interpreter, attached: true };
    this.exited = new Promise<ProgramExit>((resolve) => {
      const timer = setInterval(() => {
        const facts = describeProcess(pid);
        if (!facts || facts.state === 'Z') this.endNow();
      }, EXIT_POLL_MS);
      this.endNow = () => {
        clearInterval(timer);
        this.exitInfo = { code: 0, signal: null, connectionOnly: true };
        resolve(this.exitInfo);
      };
    });
  }

  /** Reads process pid (running Python `python`, 'X.Y') once with its own interpreter; throws when it cannot. */
  static async open(pid: number, python: string, interpreter: string, runtimeDir = findRuntimeDir()): Promise<ReadOnlyRuntime> {
    const runtime = new ReadOnlyRuntime(pid, python, interpreter, runtimeDir);
    await runtime.read();
    return runtime;
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  whenExited(): Promise<ProgramExit> {
    return this.exited;
  }

  async terminate(): Promise<ProgramExit> {
    this.endNow();
    return this.exited;
  }

  throttleOutputBy(): void {
    // The program's output is its own: nothing comes here.
  }

  onEvent<K extends RuntimeEventName>(event: K, listener: (body: RuntimeEvents[K]) => void): this {
    this.events.on(event, listener);
    return this;
  }

  async request<K extends RuntimeRequestName>(command: K, args: RuntimeRequests[K]['arguments']): Promise<RuntimeRequests[K]['body']> {
    return this.answer(command, args as Record<string, any>) as RuntimeRequests[K]['body'];
  }

  private async answer(command: RuntimeRequestName, args: Record<string, any>): Promise<unknown> {
    switch (command) {
      case 'setFunctionBreakpoints':
        return { breakpoints: args.breakpoints.map((_b: unknown, index: number) => ({ id: index + 1, verified: false, message: READ_ONLY })) };
      case 'setBreakpoints':
        return { breakpoints: args.breakpoints.map((b: { line: number }, index: number) => ({ id: index + 1, verified: false, line: b.line, message: READ_ONLY })) };
      case 'setTaskFilters': case 'outputHeld': case 'detach':
        if (command === 'detach') setImmediate(() => this.endNow());
        return {};
      case 'start': case 'pause':
        if (command === 'pause') await this.read();
        setImmediate(() => this.tellStopped());
        return {};
      case 'resume':
        return {};
      case 'threads':
        return { threads: this.threads() };
      case 'stackTrace': {
        const frames = this.stackOf(args.threadId);
        const start = args.startFrame ?? 0;
        return { stackFrames: frames.slice(start, args.levels ? start + args.levels : undefined), totalFrames: frames.length };
      }
      case 'scopes':
        return { scopes: [] };
      case 'variables':
        return { variables: [] };
      case 'snapshot':
        return { loops: this.loops() };
      case 'tasks':
        return this.tasks(args as RuntimeRequests['tasks']['arguments']);
      default:
        throw new Error(READ_ONLY);
    }
  }

  /** Runs the helper: task_tree.py's reading of the program. */
  private async read(): Promise<void> {
    const cli = path.join(this.runtimeDir, 'loopscope', 'outside', 'cli.py');
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(this.interpreter, ['-I', '-S', cli, 'task-tree', String(this.pid)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), HELPER_DEADLINE_MS);
      child.stdout.on('data', (chunk) => { stdout += chunk; });
      child.stderr.on('data', (chunk) => { stderr += chunk; });
      child.on('error', (error) => { clearTimeout(timer); reject(new Error(`Loopscope could not run ${this.interpreter}: ${error.message}`)); });
      child.on('close', () => { clearTimeout(timer); resolve(stdout || stderr); });
    });
    let answer: { ok: boolean; message?: string } & Tree;
    try {
      answer = JSON.parse(output.trim().split('\n').pop() ?? '');
    } catch {
      throw new Error(`Loopscope could not read process ${this.pid} from outside: ${output.trim().slice(-2000)}`);
    }
    if (!answer.ok) throw new Error(answer.message);
    this.tree = { threads: answer.threads, tasks: answer.tasks };
  }

  private idOf(key: string): number {
    let id = this.ids.get(key);
    if (id === undefined) this.ids.set(key, id = this.ids.size + 1);
    return id;
  }

  private threads(): { id: number; name: string }[] {
    const threads = this.tree.threads.map((t) => ({
      id: this.idOf(`thread ${t.tid}`), name: `${t.name}${t.loop ? ` · event loop (${t.loop === 'idle' ? 'idle in select' : 'running'})` : ''} · read-only`,
    }));
    const tasks = this.tree.tasks.map((t) => ({ id: this.idOf(`task ${t.id}`), name: `${t.name} · ${outermost(t.frames)}` }));
    return [...threads, ...tasks];
  }

  private stackOf(threadId: number): StackFrame[] {
    const thread = this.tree.threads.find((t) => this.idOf(`thread ${t.tid}`) === threadId);
    const task = this.tree.tasks.find((t) => this.idOf(`task ${t.id}`) === threadId);
    const frames = thread?.frames ?? task?.frames;
    if (!frames) throw new Error(`no thread or task with id ${threadId}`);
    return frames.map((frame) => ({ id: ++this.lastFrameId, name: frame.function, path: frame.path, line: frame.line }));
  }

  /** The tasks request over what was read: grouped, filtered and paged as the runtime does it. */
  private tasks(args: RuntimeRequests['tasks']['arguments']): RuntimeRequests['tasks']['body'] {
    const loops = this.loops().filter((loop) => args.loopId === undefined || loop.id === args.loopId);
    const all = loops.flatMap((loop) => loop.tasks);
    if (args.ids) return { total: all.length, matching: all.length, tasks: all.filter((task) => args.ids!.includes(task.id)) };
    const text = (args.filter ?? '').toLowerCase();
    const matching = all.filter((task) => !text || [task.name, task.coroutine, task.location?.path ?? '']
      .some((field) => field.toLowerCase().includes(text)));
    const keyOf = (task: TaskSnapshot): string => {
      switch (args.groupBy ?? 'state') {
        case 'state': return task.state;
        case 'coroutine': return task.coroutine;
        case 'location': return `${task.coroutine} · ${task.location ? `${path.basename(task.location.path)}:${task.location.line}` : '?'}`;
        default: return 'not known read-only';
      }
    };
    const groups = new Map<string, TaskSnapshot[]>();
    for (const task of matching) groups.set(keyOf(task), [...(groups.get(keyOf(task)) ?? []), task]);
    const body = { total: all.length, matching: matching.length };
    if (args.group === undefined) return { ...body, groups: [...groups].map(([key, members]) => ({ key, label: key, count: members.length })) };
    const members = groups.get(args.group) ?? [];
    const start = args.start ?? 0;
    return { ...body, groupTotal: members.length, tasks: members.slice(start, start + (args.count ?? 200)) };
  }

  private loops(): LoopSnapshot[] {
    const threadOfLoop = this.tree.threads.filter((t) => t.loop);
    return threadOfLoop.map((thread) => {
      const tasks: TaskSnapshot[] = this.tree.tasks.filter((task) => task.thread === thread.tid).map((task) => {
        const running = thread.loop === 'running' && task.frames.length > 0 && thread.frames[0]?.function === task.frames[0].function;
        const snapshot: TaskSnapshot = {
          id: this.idOf(`task ${task.id}`), name: task.name, coroutine: outermost(task.frames), state: running ? 'running' : 'waiting',
          awaitedBy: task.awaitedBy.map((waiter) => {
            const found = this.tree.tasks.find((t) => t.id === waiter);
            return { id: this.idOf(`task ${waiter}`), name: found?.name ?? `task ${waiter}`, state: 'waiting' as const };
          }),
          steps: 0,
          stack: task.frames.map((frame) => ({ name: frame.function, path: frame.path, line: frame.line })),
        };
        if (task.frames.length) snapshot.location = { path: task.frames[0].path, line: task.frames[0].line };
        return snapshot;
      });
      return {
        id: this.idOf(`thread ${thread.tid}`), threadId: this.idOf(`thread ${thread.tid}`), osThread: thread.name, iteration: 0, time: 0,
        clock: 'wall', state: 'paused', ready: [], timers: [], watched: [], tasks, tasksTotal: tasks.length,
        taskCounts: countBy(tasks.map((task) => task.state)), futures: [], futuresTotal: 0, deadlocks: [],
      };
    });
  }

  private tellStopped(): void {
    const loop = this.tree.threads.find((t) => t.loop) ?? this.tree.threads[0];
    const threadId = loop ? this.idOf(`thread ${loop.tid}`) : 1;
    const tasks = this.tree.tasks.length;
    const description = `Read-only: ${this.tree.threads.filter((t) => t.loop).length} event loop(s) and ${tasks} task(s) read from ` +
      'outside; the program runs on. Pause reads it again.';
    this.events.emit('stopped', {
      reason: 'pause', threadId, description, label: 'read-only', iteration: 0, time: 0, where: 'iteration', loopId: threadId,
    } satisfies RuntimeEvents['stopped']);
  }
}

function countBy(keys: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const key of keys) counts[key] = (counts[key] ?? 0) + 1;
  return counts;
}

/** A task's own coroutine: the outermost frame of its await chain. */
function outermost(frames: Frame[]): string {
  return frames.length ? frames[frames.length - 1].function : '?';
}
