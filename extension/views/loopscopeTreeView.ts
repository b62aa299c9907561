// What the four Loopscope tree views share: a TreeView over the active session's model that shows
// 'running…' while the program runs, nothing once it ends, and while stopped whatever the view's
// pure mapping makes of this stop's data. Also turns the plain ViewItems into vscode.TreeItems.
import * as vscode from 'vscode';
import { LoopscopeSessionModel } from './sessionModel';
import { LoopscopeSessions } from './sessions';
import { PAGE_SIZE, RUNNING_ITEM, ViewItem } from './viewItem';

/** Command run by a 'Show more…' row: (viewId, listId). */
export const SHOW_MORE_COMMAND = 'loopscope.showMore';
/** Command run by a row with a source line: (Location). */
export const SHOW_LOCATION_COMMAND = 'loopscope.showLocation';

export abstract class LoopscopeTreeView<K> implements vscode.TreeDataProvider<ViewItem<K>>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  readonly view: vscode.TreeView<ViewItem<K>>;
  /** Rows shown per long list, grown by 'Show more…'; kept across stops of one session. */
  protected readonly limits = new Map<string, number>();
  private readonly subscriptions: vscode.Disposable[] = [this.changeEmitter];
  private shownSession: string | undefined;

  constructor(readonly viewId: string, protected readonly sessions: LoopscopeSessions) {
    this.view = vscode.window.createTreeView(viewId, { treeDataProvider: this, showCollapseAll: true });
    this.subscriptions.push(this.view, sessions.onDidChange(() => this.refresh()));
  }

  /** The rows under `parent` for this stop (the session is stopped). */
  protected abstract stoppedChildren(model: LoopscopeSessionModel, parent: ViewItem<K> | undefined): Promise<ViewItem[]>;

  /** Called when the program runs or the session changes; views clear their title-bar notes here. */
  protected notStopped(): void {}

  refresh(): void {
    this.changeEmitter.fire();
  }

  showMore(listId: string): void {
    this.limits.set(listId, (this.limits.get(listId) ?? PAGE_SIZE) + PAGE_SIZE);
    this.refresh();
  }

  getTreeItem(item: ViewItem<K>): vscode.TreeItem {
    return toTreeItem(item, this.viewId);
  }

  async getChildren(parent?: ViewItem<K>): Promise<ViewItem<K>[]> {
    const model = this.sessions.active;
    if (model?.session.id !== this.shownSession) {
      this.shownSession = model?.session.id;
      this.limits.clear();
    }
    if (!model || model.phase.phase !== 'stopped') {
      this.notStopped();
      if (!model || model.phase.phase === 'ended' || parent) return [];
      return [RUNNING_ITEM as ViewItem<K>];
    }
    return (await this.stoppedChildren(model, parent)) as ViewItem<K>[];
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}

const COLLAPSIBLE = {
  none: vscode.TreeItemCollapsibleState.None,
  collapsed: vscode.TreeItemCollapsibleState.Collapsed,
  expanded: vscode.TreeItemCollapsibleState.Expanded,
} as const;

export function toTreeItem(item: ViewItem, viewId: string): vscode.TreeItem {
  const tree = new vscode.TreeItem(item.label, COLLAPSIBLE[item.collapsible]);
  tree.id = item.id;
  if (item.description !== undefined) tree.description = item.description;
  if (item.tooltip !== undefined) tree.tooltip = item.tooltip;
  if (item.contextValue !== undefined) tree.contextValue = item.contextValue;
  if (item.icon) {
    tree.iconPath = new vscode.ThemeIcon(item.icon.id, item.icon.color ? new vscode.ThemeColor(item.icon.color) : undefined);
  }
  if (item.moreOf !== undefined) {
    tree.command = { command: SHOW_MORE_COMMAND, title: 'Show More', arguments: [viewId, item.moreOf] };
  } else if (item.reveal) {
    tree.command = { command: SHOW_LOCATION_COMMAND, title: 'Show Source', arguments: [item.reveal] };
  }
  return tree;
}
