// The Event Loop view: a thin adapter from the active session's snapshot to eventLoopTree.ts.
import { EventLoopKey, eventLoopChildren } from './eventLoopTree';
import { LoopscopeTreeView } from './loopscopeTreeView';
import { LoopscopeSessionModel } from './sessionModel';
import { LoopscopeSessions } from './sessions';
import { ViewItem, errorItem } from './viewItem';

export const EVENT_LOOP_VIEW = 'loopscope.eventLoop';

export class EventLoopView extends LoopscopeTreeView<EventLoopKey> {
  constructor(sessions: LoopscopeSessions) {
    super(EVENT_LOOP_VIEW, sessions);
  }

  protected async stoppedChildren(model: LoopscopeSessionModel, parent: ViewItem<EventLoopKey> | undefined): Promise<ViewItem[]> {
    const fetched = await model.snapshot();
    if (!fetched) return [];
    if ('error' in fetched) return parent ? [] : [errorItem(fetched.error)];
    return eventLoopChildren(fetched.value, parent, this.limits);
  }
}
