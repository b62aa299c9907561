// One Loopscope debug session as the views see it: its phase (from the DAP messages a tracker
// passes in) and, while stopped, the snapshot and task switches, each fetched once per stop and
// shared by every view that asks.
import * as vscode from 'vscode';
import type { CustomDapRequests, TaskSwitchesBody } from '../adapter/protocol';
import { SessionPhase } from './sessionPhase';
import { SnapshotIndex, indexSnapshot } from './snapshotIndex';
import { SWITCHES_REQUESTED } from './taskSwitchesTree';

/** At most this many live tasks per loop in a snapshot (the runtime's cost grows with it). */
export const SNAPSHOT_MAX_TASKS = 1000;

export type Fetched<T> = { value: T } | { error: string };

/** A Loopscope custom request, typed by its name. */
export function customRequest<C extends keyof CustomDapRequests>(session: vscode.DebugSession, command: C,
  args: CustomDapRequests[C]['arguments']): Promise<CustomDapRequests[C]['body']> {
  return Promise.resolve(session.customRequest(command, args));
}

/** One kind of data, fetched at most once per stop (per phase generation). */
class PerStop<T> {
  private fetch: { generation: number; result: Promise<Fetched<T>> } | undefined;

  constructor(private readonly phase: SessionPhase, private readonly load: () => Promise<T>) {}

  /** This stop's data; undefined unless the session is stopped. */
  get(): Promise<Fetched<T>> | undefined {
    if (this.phase.phase !== 'stopped') return undefined;
    if (this.fetch?.generation !== this.phase.generation) {
      this.fetch = { generation: this.phase.generation, result: fetched(this.load()) };
    }
    return this.fetch.result;
  }
}

export class LoopscopeSessionModel implements vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  /** The phase changed (stopped, running, ended) or this stop's data was dropped to be fetched again. */
  readonly onDidChange = this.changeEmitter.event;
  readonly phase = new SessionPhase(() => this.changeEmitter.fire());
  private readonly snapshots = new PerStop(this.phase,
    () => this.request('loopscope/snapshot', { maxTasks: SNAPSHOT_MAX_TASKS }).then(indexSnapshot));
  private readonly switches = new PerStop(this.phase, () => this.request('loopscope/taskSwitches', { limit: SWITCHES_REQUESTED }));

  constructor(readonly session: vscode.DebugSession) {}

  /** This stop's snapshot of every loop; undefined unless the session is stopped. */
  snapshot(): Promise<Fetched<SnapshotIndex>> | undefined {
    return this.snapshots.get();
  }

  /** This stop's most recent task steps, newest first; undefined unless the session is stopped. */
  taskSwitches(): Promise<Fetched<TaskSwitchesBody>> | undefined {
    return this.switches.get();
  }

  request<C extends keyof CustomDapRequests>(command: C, args: CustomDapRequests[C]['arguments']): Promise<CustomDapRequests[C]['body']> {
    return customRequest(this.session, command, args);
  }

  dispose(): void {
    this.changeEmitter.dispose();
  }
}

async function fetched<T>(work: Promise<T>): Promise<Fetched<T>> {
  try {
    return { value: await work };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}
