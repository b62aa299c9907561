// The Futures view: a thin adapter from the active session's snapshot to futuresTree.ts.
import { FutureKey, futureChildren } from './futuresTree';
import { LoopscopeTreeView } from './loopscopeTreeView';
import { LoopscopeSessionModel } from './sessionModel';
import { LoopscopeSessions } from './sessions';
import { ViewItem, errorItem } from './viewItem';

export const FUTURES_VIEW = 'loopscope.futures';

export class FuturesView extends LoopscopeTreeView<FutureKey> {
  constructor(sessions: LoopscopeSessions) {
    super(FUTURES_VIEW, sessions);
  }

  protected async stoppedChildren(model: LoopscopeSessionModel, parent: ViewItem<FutureKey> | undefined): Promise<ViewItem[]> {
    const fetched = await model.snapshot();
    if (!fetched) return [];
    if ('error' in fetched) return parent ? [] : [errorItem(fetched.error)];
    return futureChildren(fetched.value, parent, this.limits);
  }
}
