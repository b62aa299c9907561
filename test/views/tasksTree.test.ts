// The Asyncio Tasks view's mapping: groups with counts over every task (the runtime's answer),
// pages of a group, task rows and their children, deadlocks, grouping and filter, traceback text.
import * as assert from 'node:assert/strict';
import type { TaskSnapshot } from '../../extension/adapter/protocol';
import {
  TaskItem, TaskTreeOptions, awaitChainText, deadlockChildren, deadlockLabel, groupChildren, groupRows, taskDetails, taskItem, taskRoots,
} from '../../extension/views/tasksTree';
import { PAGE_SIZE, ViewItem } from '../../extension/views/viewItem';
import { labels, loop, page, ref, stateGroups, task } from './snapshots';

const byState: TaskTreeOptions = { groupBy: 'state', limits: new Map() };
const find = (rows: ViewItem[], label: string) => {
  const row = rows.find((r) => r.label === label);
  assert.ok(row, `no row '${label}' in ${JSON.stringify(labels(rows))}`);
  return row as TaskItem;
};

// main gathers two workers; worker-2 sleeps; a finished and a failed task; one task about to run.
const app = '/home/me/app.py';
const main = task(1, 'main', {
  stack: [{ name: 'main', path: app, line: 30 }], location: { path: app, line: 30 },
  awaiting: { kind: 'future', id: 90, description: 'gather of 2' }, createdAt: { path: app, line: 40 }, steps: 3,
});
const worker1 = task(2, 'worker-1', {
  state: 'running', stack: [{ name: 'work', path: app, line: 12 }, { name: 'worker', path: app, line: 20 }], location: { path: app, line: 12 },
});
const worker2 = task(3, 'worker-2', {
  stack: [{ name: 'worker', path: app, line: 21 }], location: { path: app, line: 21 },
  awaiting: { kind: 'sleep', id: 91, description: 'sleep, due in 0.500 s' },
});
worker1.awaitedBy = [ref(main)];
worker2.awaitedBy = [ref(main)];
main.awaits = [ref(worker1), ref(worker2)];
const ticker = task(4, 'ticker', { state: 'ready', location: { path: app, line: 5 }, stack: [{ name: 'ticker', path: app, line: 5 }] });
const setup = task(5, 'setup', { state: 'done', result: "'ok'" });
const flaky = task(6, 'flaky', { state: 'failed', exception: "ValueError('boom')", createdAt: { path: app, line: 41 } });
const all = [main, worker1, worker2, ticker, setup, flaky];
const one = loop(1, { tasks: all });
const roots = (options = byState) => taskRoots([one], new Map([[1, stateGroups(all, options.filter)]]), options);
const pageOf = (group: TaskItem, members: TaskSnapshot[], limits = new Map<string, number>()) =>
  groupChildren(group, 1, page(members, 0, limits.get(group.id) ?? PAGE_SIZE), limits);

describe('Asyncio Tasks view', () => {
  it('groups the tasks by state, in the order running, ready, waiting, failed, cancelled, done, with counts', () => {
    const rows = roots();
    assert.deepEqual(labels(rows), ['Running (1)', 'Ready (1)', 'Waiting (2)', 'Failed (1)', 'Done (1)']);
    assert.deepEqual(rows.map((r) => r.collapsible), ['expanded', 'expanded', 'expanded', 'expanded', 'collapsed']);
  });

  it('counts every task, not the ones fetched: the counts come from the runtime', () => {
    const big = loop(1, { taskCounts: { waiting: 100_000, ready: 2 } });
    const body = { total: 100_002, matching: 100_002, groups: [{ key: 'ready', label: 'ready', count: 2 }, { key: 'waiting', label: 'waiting', count: 100_000 }] };
    assert.deepEqual(labels(taskRoots([big], new Map([[1, body]]), byState)), ['Ready (2)', 'Waiting (100,000)']);
  });

  it('shows each task with its coroutine, where it is suspended and what it awaits', () => {
    const waiting = pageOf(find(roots(), 'Waiting (2)'), [main, worker2]);
    assert.deepEqual(labels(waiting), ['main', 'worker-2']);
    const [mainRow, worker2Row] = waiting;
    assert.equal(mainRow.description, 'main · app.py:30 · gather of 2');
    assert.equal(worker2Row.description, 'worker · app.py:21 · sleep, due in 0.500 s');
    assert.equal(mainRow.contextValue, 'task.live');
    assert.equal(mainRow.taskId, 1);
    assert.deepEqual(mainRow.reveal, { path: app, line: 30 });
    assert.match(mainRow.tooltip ?? '', /awaits gather of 2\nwaits for worker-1, worker-2\ncreated at \/home\/me\/app.py:40\n3 steps/);
  });

  it('says what finished tasks returned or raised, and offers no Cancel on them', () => {
    const failed = taskItem(flaky, 1, 'x');
    const done = taskItem(setup, 1, 'y');
    assert.equal(failed.description, "flaky · raised ValueError('boom')");
    assert.equal(done.description, "setup · returned 'ok'");
    assert.equal(failed.contextValue, 'task.finished');
    assert.deepEqual(failed.reveal, { path: app, line: 41 }, 'a task with no location reveals where it was created');
  });

  it('shows a task being cancelled as cancelling, not as what it awaited', () => {
    const cancelled = taskItem({ ...worker2, state: 'ready', cancelling: true }, 1, 'c');
    assert.equal(cancelled.description, 'worker · app.py:21 · cancelling');
    assert.match(cancelled.tooltip ?? '', /^Task worker-2 \(id 3\): cancelling\n.*\nCancel was asked for/);
  });

  it('lists under a task its await chain innermost first, then the tasks it awaits and the tasks awaiting it', () => {
    const details = taskDetails(worker1, 1, 'w1');
    assert.deepEqual(labels(details), ['work', 'worker', 'awaited by: main']);
    assert.deepEqual(details.map((d) => d.description), ['app.py:12', 'app.py:20', 'waiting · app.py:30']);
    assert.deepEqual(details[1].reveal, { path: app, line: 20 });
    assert.equal(details[2].taskId, 1);
    assert.deepEqual(details[2].reveal, { path: app, line: 30 });
    assert.equal(details[2].collapsible, 'collapsed', 'a linked task expands like any task (the view fetches it)');
    assert.deepEqual((details[2] as TaskItem).key, { kind: 'task', loopId: 1, taskId: 1 });
    const mainDetails = taskDetails(main, 1, 'm');
    assert.deepEqual(labels(mainDetails), ['main', 'awaits: worker-1', 'awaits: worker-2', 'awaits: gather of 2', 'created at']);
    assert.deepEqual(mainDetails[4].reveal, { path: app, line: 40 });
  });

  it('puts a warning for each deadlock at the top, naming the cycle, with the tasks in it below', () => {
    const a = task(1, 'a', { awaiting: { kind: 'task', id: 2, description: 'task b' } });
    const b = task(2, 'b', { awaiting: { kind: 'task', id: 1, description: 'task a' } });
    a.awaits = [ref(b)]; b.awaits = [ref(a)]; a.awaitedBy = [ref(b)]; b.awaitedBy = [ref(a)];
    const stuck = loop(1, { tasks: [a, b], deadlocks: [[ref(a), ref(b)]] });
    const rows = taskRoots([stuck], new Map([[1, stateGroups([a, b])]]), byState);
    assert.deepEqual(labels(rows), ['Deadlock: a → b → a', 'Waiting (2)']);
    assert.equal(rows[0].icon?.id, 'warning');
    assert.deepEqual(labels(deadlockChildren(rows[0] as TaskItem, 1, [ref(a), ref(b)])), ['in cycle: a', 'in cycle: b']);
    assert.equal(deadlockLabel([ref(a), ref(b), { id: 99, name: 'c', state: 'waiting' }]), 'Deadlock: a → b → c → a');
    // A task that awaits another directly is listed once, not also as a bare 'awaits' row.
    assert.deepEqual(labels(taskDetails(a, 1, 'a')), ['awaits: b', 'awaited by: b']);
  });

  it('shows a long group a page at a time, with a Show more… row that asks for the next', () => {
    const many = Array.from({ length: 450 }, (_, i) => task(i + 1, `job-${i + 1}`));
    const [group] = taskRoots([loop(1, { tasks: many })], new Map([[1, stateGroups(many)]]), byState) as TaskItem[];
    assert.equal(group.label, 'Waiting (450)');
    assert.deepEqual(group.key, { kind: 'group', loopId: 1, group: 'waiting' });
    const first = pageOf(group, many);
    assert.equal(first.length, PAGE_SIZE + 1);
    const more = first[first.length - 1];
    assert.equal(more.label, 'Show more…');
    assert.equal(more.description, '200 of 450 shown');
    assert.equal(more.moreOf, group.id);
    assert.equal(more.collapsible, 'none');
    assert.equal(pageOf(group, many, new Map([[group.id, 400]])).length, 401);
    const rows = pageOf(group, many, new Map([[group.id, 600]]));
    assert.equal(rows.length, 450);
    assert.equal(rows[449].label, 'job-450');
  });

  it('filters in the runtime, showing matched of all per group, and says when nothing matches', () => {
    const worker = { ...byState, filter: 'WORKER' };
    assert.deepEqual(labels(roots(worker)), ['Running (1 of 1)', 'Waiting (1 of 2)']);
    const none = { ...byState, filter: 'nothing-like-this' };
    assert.deepEqual(labels(roots(none)), ['No task matches "nothing-like-this"']);
  });

  it('groups identical tasks as one row: 16 × worker · app.py:37 · Queue.get()', () => {
    const options: TaskTreeOptions = { groupBy: 'location', limits: new Map() };
    const body = { total: 17, matching: 17, groups: [
      { key: 'worker|/home/me/app.py:37|Queue.get()', label: 'worker · app.py:37 · Queue.get()', count: 16 },
      { key: 'main|/home/me/app.py:30|', label: 'main · app.py:30', count: 1 }] };
    const rows = taskRoots([loop(1)], new Map([[1, body]]), options);
    assert.deepEqual(labels(rows), ['16 × worker · app.py:37 · Queue.get()', '1 × main · app.py:30']);
    assert.deepEqual((rows[0] as TaskItem).key, { kind: 'group', loopId: 1, group: 'worker|/home/me/app.py:37|Queue.get()' });
    assert.equal(rows[0].collapsible, 'collapsed');
  });

  it('shows one row per loop when several loops are held', () => {
    const loops = [loop(1, { tasks: [main] }), loop(2, { osThread: 'worker-thread', tasks: [ticker] }), loop(3, { state: 'running', osThread: 'other' })];
    const rows = taskRoots(loops, new Map([[1, stateGroups([main])], [2, stateGroups([ticker])]]), byState);
    assert.deepEqual(labels(rows), ['Event loop 1 (MainThread)', 'Event loop 2 (worker-thread)', 'Event loop 3 (other)']);
    assert.deepEqual(rows.map((r) => r.description), ['1 task', '1 task', 'running']);
    assert.equal(rows[2].collapsible, 'none');
    assert.deepEqual(labels(groupRows(loops[1], stateGroups([ticker]), byState)), ['Ready (1)']);
  });

  it('gives every row its own id, the same at the next stop', () => {
    const rowIds = () => {
      const top = roots();
      const waiting = pageOf(find(top, 'Waiting (2)'), [main, worker2]);
      return [...top, ...waiting, ...taskDetails(main, 1, waiting[0].id)].map((r) => r.id);
    };
    const ids = rowIds();
    assert.equal(new Set(ids).size, ids.length, `duplicate ids in ${ids.join(' ')}`);
    assert.deepEqual(rowIds(), ids);
  });

  it('copies the await chain as a traceback, outermost first, with source lines when known', () => {
    const lines: Record<number, string> = { 12: '        await asyncio.sleep(1)', 20: '    return await work()' };
    assert.equal(awaitChainText(worker1, (_path, line) => lines[line]),
      'Task worker-1 (worker), running\n'
      + '  File "/home/me/app.py", line 20, in worker\n    return await work()\n'
      + '  File "/home/me/app.py", line 12, in work\n    await asyncio.sleep(1)\n');
    assert.equal(awaitChainText(worker2), 'Task worker-2 (worker), waiting: sleep, due in 0.500 s\n  File "/home/me/app.py", line 21, in worker\n');
  });
});
