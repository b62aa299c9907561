// Fills in launch configurations: F5 with no launch.json debugs the active Python file as the
// Python debugger does (it runs until a breakpoint or Pause; no stop on entry), and the
// interpreter selected in the Python extension is used when that extension is installed.
import * as vscode from 'vscode';

export class LoopscopeConfigurationProvider implements vscode.DebugConfigurationProvider {
  async resolveDebugConfiguration(folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration): Promise<vscode.DebugConfiguration | undefined> {
    if (!config.type && !config.request && !config.name) {
      const editor = vscode.window.activeTextEditor;
      if (!editor || editor.document.languageId !== 'python') {
        await vscode.window.showInformationMessage('Open a Python file to debug it with Loopscope, or add a launch.json configuration.');
        return undefined;
      }
      config.type = 'loopscope';
      config.request = 'launch';
      config.name = 'Loopscope: current file';
      config.program = editor.document.uri.fsPath;
    }
    if (!config.python && config.request !== 'attach') {
      const selected = await selectedPythonInterpreter(folder);
      if (selected) config.python = selected;
    }
    return config;
  }
}

/** The interpreter chosen in the Python extension, if it is installed and has one. */
async function selectedPythonInterpreter(folder: vscode.WorkspaceFolder | undefined): Promise<string | undefined> {
  const python = vscode.extensions.getExtension('ms-python.python');
  if (!python) return undefined;
  try {
    const api = python.isActive ? python.exports : await python.activate();
    const environment = api?.environments?.getActiveEnvironmentPath?.(folder?.uri);
    if (environment?.path) return environment.path as string;
    const details = api?.settings?.getExecutionDetails?.(folder?.uri);
    return details?.execCommand?.[0];
  } catch {
    return undefined;
  }
}
