// The Futures view: the stop's snapshot through futuresTree.ts, with the filter set by the view's
// Filter button.
import { CONTEXT_KEYS, VIEWS } from '../contributionIds';
import { FutureItem, FutureKey, futureChildren } from './futuresTree';
import { LoopscopeTreeView } from './loopscopeTreeView';
import { fetchedValue } from './sessionModel';
import { LoopscopeSessions } from './sessions';
import { ViewFilter } from './viewFilter';

export class FuturesView extends LoopscopeTreeView<FutureKey, never> {
  readonly filter = new ViewFilter(CONTEXT_KEYS.futuresFiltered, () => {
    this.view.description = this.filter.text ? `filter: ${this.filter.text}` : undefined;
    this.refresh();
  });

  constructor(sessions: LoopscopeSessions) {
    super(VIEWS.futures, sessions, {
      children: async (model, parent, limits) =>
        futureChildren(await fetchedValue(model.snapshot()), parent as FutureItem | undefined, { filter: this.filter.text, limits }),
    });
    this.subscriptions.push(sessions.onDidChange(() => this.filter.follow(sessions.active?.session.id)));
  }
}
