// A filter a view's title-bar button sets: its text, shown in the view's description and through a
// context key (for the Clear button), kept for the session it was set in and dropped when another
// session becomes the active one.
import * as vscode from 'vscode';

export class ViewFilter {
  private current: string | undefined;
  private session: string | undefined;

  constructor(private readonly contextKey: string, private readonly changed: () => void) {}

  get text(): string | undefined {
    return this.current;
  }

  /** Set (or, with an empty text, clear) the filter for the active session. */
  set(text: string | undefined, activeSession: string | undefined): void {
    this.current = text || undefined;
    this.session = activeSession;
    void vscode.commands.executeCommand('setContext', this.contextKey, this.current !== undefined);
    this.changed();
  }

  /** The active session changed: a filter set in another session does not carry over. */
  follow(activeSession: string | undefined): void {
    if (this.current !== undefined && activeSession !== undefined && activeSession !== this.session) this.set(undefined, activeSession);
  }
}
