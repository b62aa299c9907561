// The process picker of attach configurations ("processId": "${command:pickProcess}"): the
// machine's Python processes from /proc (pythonProcess.ts), nothing run in any of them, those with
// asyncio or a thread waiting in select() first. Resolves to the chosen pid, as a string.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { listPythonProcesses, ProcessFacts, processSummary } from '../adapter/pythonProcess';
import { COMMANDS } from '../contributionIds';

interface ProcessItem extends vscode.QuickPickItem { pid: number }

export function registerPickProcess(): vscode.Disposable {
  return vscode.commands.registerCommand(COMMANDS.pickProcess, () => pickProcess());
}

async function pickProcess(): Promise<string | undefined> {
  const picker = vscode.window.createQuickPick<ProcessItem>();
  picker.title = 'Attach Loopscope to a Python process';
  picker.placeholder = 'Type to filter by process id, script or command line';
  picker.matchOnDescription = true;
  picker.matchOnDetail = true;
  const refresh: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('refresh'), tooltip: 'Refresh' };
  picker.buttons = [refresh];
  const fill = () => {
    const items = listPythonProcesses().sort(byLikelyLoop).map(item);
    picker.items = items;
    if (items.length === 0) picker.placeholder = 'No Python process found that this user can see';
  };
  fill();
  try {
    return await new Promise<string | undefined>((resolve) => {
      picker.onDidTriggerButton(fill);
      picker.onDidAccept(() => resolve(picker.selectedItems[0] ? String(picker.selectedItems[0].pid) : undefined));
      picker.onDidHide(() => resolve(undefined));
      picker.show();
    });
  } finally {
    picker.dispose();
  }
}

/** Processes with asyncio or a thread waiting in select() first, then the newest. */
function byLikelyLoop(a: ProcessFacts, b: ProcessFacts): number {
  const likely = (facts: ProcessFacts) => (facts.asyncio ? 2 : 0) + (facts.waitingInSelect ? 1 : 0);
  return likely(b) - likely(a) || b.pid - a.pid;
}

function item(facts: ProcessFacts): ProcessItem {
  const words = facts.command.split(' ');
  const script = words.slice(1).find((word) => !word.startsWith('-')) ?? words[0] ?? String(facts.pid);
  return {
    pid: facts.pid,
    label: path.basename(script),
    description: `${facts.pid} · ${processSummary(facts)}`,
    detail: facts.command,
  };
}
