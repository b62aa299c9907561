// The plain description of one row of a Loopscope tree view, shared by the pure snapshot → tree
// mappings (tasksTree.ts, futuresTree.ts, ...). No `vscode` import: loopscopeTreeView.ts turns these into
// vscode.TreeItems, and test/views/ checks them without VS Code.
import type { Location } from '../adapter/protocol';

export interface ViewIcon {
  /** A codicon id, e.g. 'watch'. */
  id: string;
  /** A theme color id, e.g. 'problemsWarningIcon.foreground'. */
  color?: string;
}

export interface ViewItem<K = unknown> {
  /** Unique in its view and the same from one stop to the next, so VS Code keeps rows expanded. */
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  /** Selects the row's context menu (package.json `view/item/context`). */
  contextValue?: string;
  icon?: ViewIcon;
  collapsible: 'none' | 'collapsed' | 'expanded';
  /** Clicking the row opens this source line. */
  reveal?: Location;
  /** The task this row stands for: the task commands (cancel, break, copy stack) act on it. */
  taskId?: number;
  /** A 'Show more…' row: clicking it shows another page of the list with this id. */
  moreOf?: string;
  /** What the view needs to list this row's children; absent for leaves. */
  key?: K;
}

/** How many rows of a long list are shown before a 'Show more…' row. */
export const PAGE_SIZE = 200;

/** Rows shown per list; lists not in the map show PAGE_SIZE. */
export type PageLimits = ReadonlyMap<string, number>;

/**
 * The first page(s) of a long list and, when some are left, a 'Show more…' row. Rows are made only
 * for the shown part, so a list of thousands costs what a page costs.
 */
export function paged<T, I extends ViewItem>(listId: string, all: readonly T[], limits: PageLimits,
  row: (entry: T, position: number) => I): (I | ViewItem)[] {
  const limit = limits.get(listId) ?? PAGE_SIZE;
  const rows: (I | ViewItem)[] = all.slice(0, limit).map(row);
  if (all.length > limit) {
    rows.push({
      id: `${listId}/more`,
      label: 'Show more…',
      description: `${count(limit)} of ${count(all.length)} shown`,
      tooltip: `Show the next ${count(Math.min(PAGE_SIZE, all.length - limit))}.`,
      icon: { id: 'ellipsis' },
      collapsible: 'none',
      moreOf: listId,
    });
  }
  return rows;
}

/** One row standing alone in a view: 'running…', an error, a note. */
export function messageItem(id: string, label: string, icon?: ViewIcon, tooltip?: string): ViewItem {
  const item: ViewItem = { id, label, collapsible: 'none' };
  if (icon) item.icon = icon;
  if (tooltip) item.tooltip = tooltip;
  return item;
}

/** The single row a view shows while the program runs. */
export const RUNNING_ITEM: ViewItem = messageItem('running', 'running…', { id: 'loading~spin' },
  'The program is running; Loopscope shows its event loops when it stops.');

/** The single row a view shows when the snapshot could not be read. */
export function errorItem(message: string): ViewItem {
  return messageItem('error', `Could not read the event loop: ${message}`, { id: 'error', color: 'errorForeground' },
    'Step or continue to try again, or use the Refresh button of the view.');
}

/** 'app.py:12': the short form shown in descriptions. */
export function shortLocation(where: Location): string {
  return `${baseName(where.path)}:${where.line}`;
}

/** '/home/me/app.py:12': the long form shown in tooltips. */
export function longLocation(where: Location): string {
  return `${where.path}:${where.line}`;
}

export function baseName(path: string): string {
  const slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return slash < 0 ? path : path.slice(slash + 1);
}

/** 1,234: counts read the same on every machine (and in tests). */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/**
 * Where a held loop is in its iterations, said one way everywhere (the runtime says it so too):
 * held between iterations it is 'before iteration N+1' (N have started and run), anywhere else
 * 'in iteration N'.
 */
export function loopPosition(iteration: number, where: string | undefined): string {
  return where === 'iteration' ? `before iteration ${count(iteration + 1)}` : `in iteration ${count(iteration)}`;
}

/** '1 task', '1,234 tasks': a count and its noun, singular or plural as English wants. */
export function plural(n: number, noun: string, nouns = `${noun}s`): string {
  return `${count(n)} ${n === 1 ? noun : nouns}`;
}

/** 'a, b, c +2 more': a few names, then how many more. */
export function someNames(names: readonly string[], shown = 3): string {
  if (names.length <= shown) return names.join(', ');
  return `${names.slice(0, shown).join(', ')} +${names.length - shown} more`;
}

export function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Joins the parts of a description that are present. */
export function joined(...parts: (string | undefined | false)[]): string {
  return parts.filter((p): p is string => typeof p === 'string' && p.length > 0).join(' · ');
}
