// The Task Switches view: a thin adapter from the active session's recent task steps to
// taskSwitchesTree.ts; its title bar says how many of the recorded steps it lists.
import { LoopscopeTreeView } from './loopscopeTreeView';
import { LoopscopeSessionModel } from './sessionModel';
import { LoopscopeSessions } from './sessions';
import { taskSwitchRows, taskSwitchesSummary } from './taskSwitchesTree';
import { ViewItem, errorItem } from './viewItem';

export const TASK_SWITCHES_VIEW = 'loopscope.taskSwitches';

export class TaskSwitchesView extends LoopscopeTreeView<never> {
  constructor(sessions: LoopscopeSessions) {
    super(TASK_SWITCHES_VIEW, sessions);
  }

  protected notStopped(): void {
    this.view.description = undefined;
  }

  protected async stoppedChildren(model: LoopscopeSessionModel, parent: ViewItem<never> | undefined): Promise<ViewItem[]> {
    if (parent) return [];
    const fetched = await model.taskSwitches();
    if (!fetched) return [];
    if ('error' in fetched) {
      this.view.description = undefined;
      return [errorItem(fetched.error)];
    }
    this.view.description = taskSwitchesSummary(fetched.value);
    return taskSwitchRows(fetched.value, this.limits);
  }
}
