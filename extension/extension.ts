// VS Code entry point: registrations only. The adapter runs as a separate Node process
// (dist/debugAdapter.js), so the same adapter serves VS Code and any other DAP client.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LoopscopeConfigurationProvider } from './configurationProvider';

export function activate(context: vscode.ExtensionContext): void {
  const adapterPath = path.join(context.extensionPath, 'dist', 'debugAdapter.js');
  context.subscriptions.push(
    vscode.debug.registerDebugAdapterDescriptorFactory('loopscope', {
      createDebugAdapterDescriptor: () => new vscode.DebugAdapterExecutable(process.execPath, [adapterPath]),
    }),
    vscode.debug.registerDebugConfigurationProvider('loopscope', new LoopscopeConfigurationProvider()),
  );
}

export function deactivate(): void {
  // Everything registered is disposed through context.subscriptions.
}
