// One Loopscope debug session as the views see it: its phase (from the DAP messages a tracker
// passes in) and, while stopped, the snapshot and task switches, each fetched once per stop and
// shared by every view that asks.
import * as vscode from 'vscode';
import type { CustomDapRequests, TaskSwitchesBody, TasksArguments, TasksBody } from '../adapter/protocol';
import { SessionPhase } from './sessionPhase';
import { SnapshotIndex, indexSnapshot } from './snapshotIndex';
import { SWITCHES_REQUESTED } from './taskSwitchesTree';

/** The views page tasks through loopscope/tasks: the snapshot they share lists none in full, only
 * the futures, which it lists at most this many of. */
export const SNAPSHOT_MAX_TASKS = 0;

export type Fetched<T> = { value: T } | { error: string };

/** A Loopscope custom request, typed by its name. */
export function customRequest<C extends keyof CustomDapRequests>(session: vscode.DebugSession, command: C,
  args: CustomDapRequests[C]['arguments']): Promise<CustomDapRequests[C]['body']> {
  return Promise.resolve(session.customRequest(command, args));
}

/** Data fetched at most once per stop (per phase generation) for each distinct argument. */
class PerStop<A, T> {
  private generation = -1;
  private readonly fetches = new Map<string, Promise<Fetched<T>>>();

  constructor(private readonly phase: SessionPhase, private readonly load: (args: A) => Promise<T>) {}

  /** This stop's data for args; undefined unless the session is stopped. */
  get(args: A): Promise<Fetched<T>> | undefined {
    if (this.phase.phase !== 'stopped') return undefined;
    if (this.generation !== this.phase.generation) {
      this.generation = this.phase.generation;
      this.fetches.clear();
    }
    const key = JSON.stringify(args);
    let result = this.fetches.get(key);
    if (!result) this.fetches.set(key, result = fetched(this.load(args)));
    return result;
  }
}

export class LoopscopeSessionModel implements vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  /** The phase changed (stopped, running, ended) or this stop's data was dropped to be fetched again. */
  readonly onDidChange = this.changeEmitter.event;
  readonly phase = new SessionPhase(() => this.changeEmitter.fire());
  private readonly snapshots = new PerStop(this.phase,
    (_: void) => this.request('loopscope/snapshot', { maxTasks: SNAPSHOT_MAX_TASKS }).then(indexSnapshot));
  private readonly switches = new PerStop(this.phase, (_: void) => this.request('loopscope/taskSwitches', { limit: SWITCHES_REQUESTED }));
  private readonly taskPages = new PerStop(this.phase, (args: TasksArguments) => this.request('loopscope/tasks', args));

  constructor(readonly session: vscode.DebugSession) {}

  /** This stop's snapshot of every loop; undefined unless the session is stopped. */
  snapshot(): Promise<Fetched<SnapshotIndex>> | undefined {
    return this.snapshots.get();
  }

  /** This stop's most recent task steps, newest first; undefined unless the session is stopped. */
  taskSwitches(): Promise<Fetched<TaskSwitchesBody>> | undefined {
    return this.switches.get();
  }

  /** A loop's task groups, or a page of one, or tasks by id (loopscope/tasks); once per stop for each question. */
  tasks(args: TasksArguments): Promise<Fetched<TasksBody>> | undefined {
    return this.taskPages.get(args);
  }

  request<C extends keyof CustomDapRequests>(command: C, args: CustomDapRequests[C]['arguments']): Promise<CustomDapRequests[C]['body']> {
    return customRequest(this.session, command, args);
  }

  dispose(): void {
    this.changeEmitter.dispose();
  }
}

/** The value of a per-stop fetch, or an error to show (the program runs, or the request failed). */
export async function fetchedValue<T>(fetch: Promise<Fetched<T>> | undefined): Promise<T> {
  const result = await fetch;
  if (!result) throw new Error('the program is running');
  if ('error' in result) throw new Error(result.error);
  return result.value;
}

async function fetched<T>(work: Promise<T>): Promise<Fetched<T>> {
  try {
    return { value: await work };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}
