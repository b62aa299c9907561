// The timeline commands: show it in a webview beside the editor, or export it as Chrome Trace Event
// JSON for Perfetto (https://ui.perfetto.dev) or chrome://tracing. Both work while the program runs.
import * as vscode from 'vscode';
import { COMMANDS } from '../contributionIds';
import { chromeTrace } from '../timeline/chromeTrace';
import { TimelinePanel } from '../timeline/timelinePanel';
import { LoopscopeSessions } from '../views/sessions';

export function registerTimelineCommands(sessions: LoopscopeSessions, panel: TimelinePanel): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand(COMMANDS.showTimeline, () => panel.show()),
    vscode.commands.registerCommand(COMMANDS.exportTimeline, async () => {
      const model = sessions.active;
      if (!model || model.phase.phase === 'ended') {
        void vscode.window.showWarningMessage('Start a Loopscope debug session first: the timeline is the running program\'s.');
        return;
      }
      const timeline = await model.request('loopscope/timeline', {});
      const target = await vscode.window.showSaveDialog({
        title: 'Export the timeline as Chrome Trace Event JSON',
        filters: { 'Chrome Trace Event JSON': ['json'] },
        saveLabel: 'Export',
      });
      if (!target) return;
      const text = JSON.stringify(chromeTrace(timeline, model.session.name));
      await vscode.workspace.fs.writeFile(target, Buffer.from(text, 'utf8'));
      const note = timeline.stepsRecorded ? '' : ' It has the loops\' iterations and stops; set "stepStatistics": "tasks" to record task steps too.';
      void vscode.window.showInformationMessage(`Timeline written to ${target.fsPath}: open it in https://ui.perfetto.dev or chrome://tracing.${note}`);
    }),
  ];
}
