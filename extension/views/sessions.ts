// Every running Loopscope session's model, made by a debug adapter tracker so that each model sees
// the session's DAP traffic from its first message. The views and the status bar follow the model
// of the active debug session.
import * as vscode from 'vscode';
import { LoopscopeSessionModel } from './sessionModel';

export class LoopscopeSessions implements vscode.DebugAdapterTrackerFactory, vscode.Disposable {
  private readonly models = new Map<string, LoopscopeSessionModel>();
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  /** The active session changed, or the active session's model did. */
  readonly onDidChange = this.changeEmitter.event;
  private readonly subscriptions: vscode.Disposable[] = [this.changeEmitter];

  constructor() {
    this.subscriptions.push(
      vscode.debug.onDidChangeActiveDebugSession(() => this.changeEmitter.fire()),
      vscode.debug.onDidTerminateDebugSession((session) => this.forget(session)),
    );
  }

  /** The model of the active debug session, when that is a Loopscope session. */
  get active(): LoopscopeSessionModel | undefined {
    const session = vscode.debug.activeDebugSession;
    return session ? this.models.get(session.id) : undefined;
  }

  modelOf(session: vscode.DebugSession): LoopscopeSessionModel | undefined {
    return this.models.get(session.id);
  }

  createDebugAdapterTracker(session: vscode.DebugSession): vscode.DebugAdapterTracker {
    this.forget(session);
    const model = new LoopscopeSessionModel(session);
    this.models.set(session.id, model);
    model.onDidChange(() => {
      if (vscode.debug.activeDebugSession?.id === session.id) this.changeEmitter.fire();
    });
    return {
      onWillReceiveMessage: (message) => model.phase.fromClient(message),
      onDidSendMessage: (message) => model.phase.fromAdapter(message),
      onExit: () => model.phase.end(),
    };
  }

  private forget(session: vscode.DebugSession): void {
    const model = this.models.get(session.id);
    if (!model) return;
    model.phase.end();
    model.dispose();
    this.models.delete(session.id);
    this.changeEmitter.fire();
  }

  dispose(): void {
    for (const model of this.models.values()) model.dispose();
    this.models.clear();
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}
