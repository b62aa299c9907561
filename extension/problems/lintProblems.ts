// VS Code's Problems panel for Loopscope's lints: each loopscope/lint event of a Loopscope session
// becomes a diagnostic at its line (lintDiagnostics.ts maps it); a new session starts afresh.
import * as vscode from 'vscode';
import type { Lint } from '../adapter/protocol';
import { lintProblem } from './lintDiagnostics';

export class LintProblems implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('loopscope');
  private readonly subscriptions: vscode.Disposable[] = [this.collection];

  constructor() {
    this.subscriptions.push(
      vscode.debug.onDidStartDebugSession((session) => { if (session.type === 'loopscope') this.collection.clear(); }),
      vscode.debug.onDidReceiveDebugSessionCustomEvent((event) => {
        if (event.session.type === 'loopscope' && event.event === 'loopscope/lint') this.add(event.body as Lint);
      }),
    );
  }

  private add(lint: Lint): void {
    const problem = lintProblem(lint);
    const uri = vscode.Uri.file(problem.path);
    const diagnostic = new vscode.Diagnostic(new vscode.Range(problem.line, 0, problem.line, Number.MAX_SAFE_INTEGER), problem.message,
      problem.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
    diagnostic.source = 'Loopscope';
    diagnostic.code = problem.code;
    diagnostic.relatedInformation = problem.related.map((r) => new vscode.DiagnosticRelatedInformation(
      new vscode.Location(vscode.Uri.file(r.path), new vscode.Position(r.line, 0)), r.message));
    this.collection.set(uri, [...(this.collection.get(uri) ?? []), diagnostic]);
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}
