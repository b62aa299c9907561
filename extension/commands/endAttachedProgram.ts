// Stop on a session attached to a program Loopscope did not start: the adapter only detaches (it
// never ends such a program on its own), and this asks the user whether to end the program too,
// once the session is over. Learns of the attach from the session's DAP traffic (the process event).
import * as vscode from 'vscode';

export function registerEndAttachedProgram(): vscode.Disposable {
  return vscode.debug.registerDebugAdapterTrackerFactory('loopscope', {
    createDebugAdapterTracker: (session) => {
      let attached: { pid: number; name: string } | undefined;
      let endAsked = false;
      return {
        onDidSendMessage: (message: { type?: string; event?: string; body?: Record<string, unknown> }) => {
          const body = message.body;
          if (message.type === 'event' && message.event === 'process' && body?.startMethod === 'attach' && body.isLocalProcess !== false
            && typeof body.systemProcessId === 'number') {
            attached = { pid: body.systemProcessId, name: String(body.name ?? 'python') };
          }
        },
        onWillReceiveMessage: (message: { type?: string; command?: string; arguments?: { terminateDebuggee?: boolean } }) => {
          if (message.type !== 'request') return;
          if (message.command === 'terminate' || (message.command === 'disconnect' && message.arguments?.terminateDebuggee)) endAsked = true;
        },
        onExit: () => {
          if (attached && endAsked && session.configuration.request === 'attach') void offerToEnd(attached.pid);
        },
      };
    },
  });
}

async function offerToEnd(pid: number): Promise<void> {
  if (!isAlive(pid)) return;
  const end = 'End Process';
  const choice = await vscode.window.showWarningMessage(
    `Loopscope detached from process ${pid} and left it running: Loopscope did not start it. End it too?`, end, 'Keep Running');
  if (choice !== end) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch (error) {
    void vscode.window.showErrorMessage(`Could not end process ${pid}: ${(error as Error).message}`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
