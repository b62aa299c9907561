// The status bar item 'Loop iteration N · t=…' while the active Loopscope session is paused;
// hidden while the program runs and after the session. Clicking it shows the Event Loop view.
import * as vscode from 'vscode';
import { VIEWS } from '../contributionIds';
import { LoopscopeSessions } from './sessions';
import { statusBarText, statusBarTooltip } from './sessionPhase';

export class LoopStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('loopscope.loopIteration', vscode.StatusBarAlignment.Left, 50);
  private readonly subscription: vscode.Disposable;

  constructor(private readonly sessions: LoopscopeSessions) {
    this.item.name = 'Loopscope: loop iteration';
    this.item.command = `${VIEWS.eventLoop}.focus`;
    this.subscription = sessions.onDidChange(() => this.update());
    this.update();
  }

  private update(): void {
    const model = this.sessions.active;
    const stop = model?.phase.phase === 'stopped' ? model.phase.stop : undefined;
    const text = statusBarText(stop);
    if (!stop || !text) {
      this.item.hide();
      return;
    }
    this.item.text = `$(sync) ${text}`;
    this.item.tooltip = statusBarTooltip(stop);
    this.item.show();
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
