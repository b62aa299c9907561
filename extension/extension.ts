// VS Code entry point: registrations only. The adapter runs as a separate Node process
// (dist/debugAdapter.js), so the same adapter serves VS Code and any other DAP client.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { registerAdvanceClock } from './commands/advanceClock';
import { registerEndAttachedProgram } from './commands/endAttachedProgram';
import { registerPickProcess } from './commands/pickProcess';
import { registerStepIteration } from './commands/stepIteration';
import { registerTaskCommands } from './commands/taskCommands';
import { registerViewCommands } from './commands/viewCommands';
import { LoopscopeConfigurationProvider } from './configurationProvider';
import { VIEWS } from './contributionIds';
import { eventLoopChildren } from './views/eventLoopTree';
import { futureChildren } from './views/futuresTree';
import { LoopStatusBar } from './views/loopStatusBar';
import { LoopscopeTreeView } from './views/loopscopeTreeView';
import { LoopscopeSessions } from './views/sessions';
import { taskSwitchesSummary, taskSwitchRows } from './views/taskSwitchesTree';
import { TasksView } from './views/tasksView';

export function activate(context: vscode.ExtensionContext): void {
  const adapterPath = path.join(context.extensionPath, 'dist', 'debugAdapter.js');
  const sessions = new LoopscopeSessions();
  const tasksView = new TasksView(sessions);
  const views = [
    tasksView,
    new LoopscopeTreeView(VIEWS.futures, sessions, { fetch: (model) => model.snapshot(), rows: futureChildren }),
    new LoopscopeTreeView(VIEWS.eventLoop, sessions, { fetch: (model) => model.snapshot(), rows: eventLoopChildren }),
    new LoopscopeTreeView(VIEWS.taskSwitches, sessions, {
      fetch: (model) => model.taskSwitches(), rows: (body, _parent, limits) => (_parent ? [] : taskSwitchRows(body, limits)),
      title: taskSwitchesSummary,
    }),
  ];
  context.subscriptions.push(
    vscode.debug.registerDebugAdapterDescriptorFactory('loopscope', {
      createDebugAdapterDescriptor: () => new vscode.DebugAdapterExecutable(process.execPath, [adapterPath]),
    }),
    vscode.debug.registerDebugConfigurationProvider('loopscope', new LoopscopeConfigurationProvider()),
    vscode.debug.registerDebugAdapterTrackerFactory('loopscope', sessions),
    sessions,
    ...views,
    new LoopStatusBar(sessions),
    registerStepIteration(),
    registerAdvanceClock(),
    registerPickProcess(),
    registerEndAttachedProgram(),
    ...registerTaskCommands(sessions, tasksView),
    ...registerViewCommands(sessions, tasksView, views),
  );
}

export function deactivate(): void {
  // Everything registered is disposed through context.subscriptions.
}
