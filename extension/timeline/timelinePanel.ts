// The Timeline webview: the active Loopscope session's timeline (loopscope/timeline), mapped to the
// Chrome Trace that the export writes too, drawn by dist/timelineView.js. It asks again at every
// stop and when its Refresh button is pressed; a click on a step opens its line.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Location } from '../adapter/protocol';
import { COMMANDS } from '../contributionIds';
import { LoopscopeSessions } from '../views/sessions';
import { chromeTrace } from './chromeTrace';

export class TimelinePanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly extensionPath: string, private readonly sessions: LoopscopeSessions) {
    this.subscriptions.push(sessions.onDidChange(() => { if (sessions.active?.phase.phase === 'stopped') void this.refresh(); }));
  }

  show(): void {
    if (this.panel) {
      this.panel.reveal();
      void this.refresh();
      return;
    }
    const dist = vscode.Uri.file(path.join(this.extensionPath, 'dist'));
    const panel = this.panel = vscode.window.createWebviewPanel('loopscope.timeline', 'Loopscope Timeline', vscode.ViewColumn.Beside,
      { enableScripts: true, localResourceRoots: [dist], retainContextWhenHidden: true });
    const script = panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'timelineView.js'));
    const nonce = Array.from({ length: 32 }, () => Math.floor(Math.random() * 36).toString(36)).join('');
    panel.webview.html = `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${panel.webview.cspSource} 'unsafe-inline'; script-src 'nonce-${nonce}';">
<style>body{margin:0;padding:4px 8px;color:var(--vscode-foreground);font-family:var(--vscode-font-family)}#timeline{width:100%;display:block}
button{margin-right:6px}#status{margin-left:8px;opacity:.8}</style></head><body>
<div><button id="refresh">Refresh</button><button id="export">Export…</button><span id="status">Loading…</span></div>
<canvas id="timeline"></canvas><script nonce="${nonce}" src="${script}"></script></body></html>`;
    panel.onDidDispose(() => { this.panel = undefined; }, undefined, this.subscriptions);
    panel.webview.onDidReceiveMessage(async (message: { type: string; location?: Location }) => {
      if (message.type === 'ready' || message.type === 'refresh') await this.refresh();
      else if (message.type === 'export') await vscode.commands.executeCommand(COMMANDS.exportTimeline);
      else if (message.type === 'reveal' && message.location) await vscode.commands.executeCommand(COMMANDS.showLocation, message.location);
    }, undefined, this.subscriptions);
  }

  private async refresh(): Promise<void> {
    const panel = this.panel;
    const model = this.sessions.active;
    if (!panel) return;
    if (!model || model.phase.phase === 'ended') {
      await panel.webview.postMessage({ type: 'error', error: 'No Loopscope session is running.' });
      return;
    }
    try {
      const timeline = await model.request('loopscope/timeline', {});
      await panel.webview.postMessage({ type: 'timeline', trace: chromeTrace(timeline, model.session.name) });
    } catch (error) {
      await panel.webview.postMessage({ type: 'error', error: (error as Error).message });
    }
  }

  dispose(): void {
    this.panel?.dispose();
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}
