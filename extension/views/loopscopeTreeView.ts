// The one tree view every Loopscope view is: a TreeView over the active session's model that shows
// 'running…' while the program runs, nothing once it ends, and while stopped whatever the view's
// pure mapping (tasksTree.ts, futuresTree.ts, ...) makes of this stop's data. Also turns the plain
// ViewItems into vscode.TreeItems.
import * as vscode from 'vscode';
import { COMMANDS } from '../contributionIds';
import { Fetched, LoopscopeSessionModel } from './sessionModel';
import { LoopscopeSessions } from './sessions';
import { PAGE_SIZE, PageLimits, RUNNING_ITEM, ViewItem, errorItem } from './viewItem';

/** What a view shows while stopped: which of the stop's data it reads, and how it maps it to rows. */
export interface ViewSource<K, T> {
  /** This stop's data (the model fetches each kind once per stop, for every view that asks). */
  fetch(model: LoopscopeSessionModel): Promise<Fetched<T>> | undefined;
  /** The rows under parent (the top rows when it is undefined); a pure function. */
  rows(data: T, parent: ViewItem<K> | undefined, limits: PageLimits): ViewItem[];
  /** A note for the view's title bar ('last 500 of 12,345 recorded steps'). */
  title?(data: T): string | undefined;
}

/** A view whose rows need data that depends on the row (a page of a group, a task by id): it
 * fetches what each row needs and maps it with pure functions. Errors become an error row. */
export interface PagedViewSource<K> {
  children(model: LoopscopeSessionModel, parent: ViewItem<K> | undefined, limits: PageLimits): Promise<ViewItem[]>;
}

export class LoopscopeTreeView<K, T> implements vscode.TreeDataProvider<ViewItem<K>>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  readonly view: vscode.TreeView<ViewItem<K>>;
  /** Rows shown per long list, grown by 'Show more…'; kept across stops of one session. */
  private readonly limits = new Map<string, number>();
  protected readonly subscriptions: vscode.Disposable[] = [this.changeEmitter];
  private shownSession: string | undefined;

  constructor(readonly viewId: string, private readonly sessions: LoopscopeSessions,
    private readonly source: ViewSource<K, T> | PagedViewSource<K>) {
    this.view = vscode.window.createTreeView(viewId, { treeDataProvider: this, showCollapseAll: true });
    this.subscriptions.push(this.view, sessions.onDidChange(() => this.refresh()));
  }

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
    const source = this.source;
    const titled = 'title' in source && source.title !== undefined;
    if (!model || model.phase.phase !== 'stopped') {
      if (titled) this.view.description = undefined;
      if (!model || model.phase.phase === 'ended' || parent) return [];
      return [RUNNING_ITEM as ViewItem<K>];
    }
    if ('children' in source) {
      try {
        return (await source.children(model, parent, this.limits)) as ViewItem<K>[];
      } catch (error) {
        return parent ? [] : [errorItem(error instanceof Error ? error.message : String(error)) as ViewItem<K>];
      }
    }
    const fetched = await source.fetch(model);
    if (!fetched) return [];
    if ('error' in fetched) {
      if (titled) this.view.description = undefined;
      return parent ? [] : [errorItem(fetched.error) as ViewItem<K>];
    }
    if (source.title && !parent) this.view.description = source.title(fetched.value);
    return source.rows(fetched.value, parent, this.limits) as ViewItem<K>[];
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
    tree.command = { command: COMMANDS.showMore, title: 'Show More', arguments: [viewId, item.moreOf] };
  } else if (item.reveal) {
    tree.command = { command: COMMANDS.showLocation, title: 'Show Source', arguments: [item.reveal] };
  }
  return tree;
}
