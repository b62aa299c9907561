// VS Code entry point: registrations only. The adapter runs as a separate Node process
// (dist/debugAdapter.js), so the same adapter serves VS Code and any other DAP client.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { registerAdvanceClock } from './commands/advanceClock';
import { registerEndAttachedProgram } from './commands/endAttachedProgram';
import { registerPickProcess } from './commands/pickProcess';
import { registerStepIteration } from './commands/stepIteration';
import { registerTaskCommands } from './commands/taskCommands';
import { registerTimelineCommands } from './commands/timelineCommands';
import { registerViewCommands } from './commands/viewCommands';
import { LoopscopeConfigurationProvider } from './configurationProvider';
import { LintProblems } from './problems/lintProblems';
import { TimelinePanel } from './timeline/timelinePanel';
import { VIEWS } from './contributionIds';
import { eventLoopChildren } from './views/eventLoopTree';
import { registerDeadlockNotices } from './views/deadlockNotice';
import { FuturesView } from './views/futuresView';
import { LoopStatusBar } from './views/loopStatusBar';
import { LoopscopeTreeView } from './views/loopscopeTreeView';
import { LoopscopeSessions } from './views/sessions';
import { taskSwitchesSummary, taskSwitchRows } from './views/taskSwitchesTree';
import { TasksView } from './views/tasksView';

export function activate(context: vscode.ExtensionContext): void {
  const adapterPath = path.join(context.extensionPath, 'dist', 'debugAdapter.js');
  const sessions = new LoopscopeSessions();
  const tasksView = new TasksView(sessions);
  const futuresView = new FuturesView(sessions);
  const views = [
    tasksView,
    futuresView,
    new LoopscopeTreeView(VIEWS.eventLoop, sessions, { fetch: (model) => model.snapshot(), rows: eventLoopChildren }),
    new LoopscopeTreeView(VIEWS.taskSwitches, sessions, {
      fetch: (model) => model.taskSwitches(), rows: taskSwitchRows,
      title: taskSwitchesSummary,
    }),
  ];
  const timeline = new TimelinePanel(context.extensionPath, sessions);
  context.subscriptions.push(
    vscode.debug.registerDebugAdapterDescriptorFactory('loopscope', {
      createDebugAdapterDescriptor: () => new vscode.DebugAdapterExecutable(process.execPath, [adapterPath]),
    }),
    vscode.debug.registerDebugConfigurationProvider('loopscope', new LoopscopeConfigurationProvider()),
    vscode.debug.registerDebugAdapterTrackerFactory('loopscope', sessions),
    registerDeadlockNotices(),
    sessions,
    ...views,
    new LoopStatusBar(sessions),
    registerStepIteration(),
    registerAdvanceClock(),
    registerPickProcess(),
    registerEndAttachedProgram(),
    ...registerTaskCommands(sessions, tasksView),
    ...registerViewCommands(sessions, tasksView, futuresView, views),
    new LintProblems(),
    timeline,
    ...registerTimelineCommands(sessions, timeline),
  );
}

export function deactivate(): void {
  // Everything registered is disposed through context.subscriptions.
}
