// The Asyncio Tasks view's mapping: groups with counts over every task (the runtime's answer),
// pages of a group, task rows and their children, deadlocks, grouping and filter, traceback text.
import * as assert from 'node:assert/strict';
import type { Deadlock, TaskSnapshot } from '../../extension/adapter/protocol';
import {
  TaskItem, TaskTreeOptions, awaitChainText, deadlockChildren, deadlockLabel, deadlockNoticeText, groupChildren, groupRows, taskDetails, taskItem, taskRoots,
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
    assert.match(mainRow.tooltip ?? '', /waits on gather of 2\nwaits for worker-1, worker-2\ncreated at \/home\/me\/app.py:40\n3 steps/);
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
    const cycle: Deadlock = { kind: 'awaitCycle', description: 'a awaits b; b awaits a', tasks: [ref(a), ref(b)], total: 2 };
    const idle: Deadlock = { kind: 'idleLoop', description: 'Event loop 1 would wait for ever: 3 tasks wait', tasks: [ref(a), ref(b)], total: 3 };
    const stuck = loop(1, { tasks: [a, b], deadlocks: [cycle, idle] });
    const rows = taskRoots([stuck], new Map([[1, stateGroups([a, b])]]), byState);
    assert.deepEqual(labels(rows), ['Deadlock: a → b → a', 'Deadlock: the loop waits for ever (3 tasks waiting)', 'Waiting (2)']);
    assert.equal(rows[0].icon?.id, 'warning');
    assert.match(String(rows[1].tooltip), /^Event loop 1 would wait for ever: 3 tasks wait\nNone of these tasks can resume/);
    assert.deepEqual(labels(deadlockChildren(rows[0] as TaskItem, 1, cycle)), ['stuck: a', 'stuck: b']);
    assert.deepEqual(labels(deadlockChildren(rows[1] as TaskItem, 1, idle)), ['stuck: a', 'stuck: b', '1 more task stuck']);
    assert.equal(deadlockLabel({ ...cycle, tasks: [ref(a), ref(b), { id: 99, name: 'c', state: 'waiting' }] }), 'Deadlock: a → b → c → a');
    assert.equal(deadlockLabel({ kind: 'lostWakeup', description: '', tasks: [ref(a)], total: 1 }),
      'Lost wake-up: a waits on a future nothing can complete');
    const many = { ...idle, tasks: Array.from({ length: 7 }, (_, i) => ({ id: i, name: `t${i}`, state: 'waiting' as const })), total: 9 };
    assert.equal(deadlockNoticeText(many), 'Event loop 1 would wait for ever: 3 tasks wait Stuck: t0, t1, t2, t3, t4 and 4 more.');
    // A task that awaits another directly is listed once, not also as a bare 'awaits' row.
    assert.deepEqual(labels(taskDetails(a, 1, 'a')), ['awaits: b', 'awaited by: b']);
  });

  it('says what a task ultimately waits on, who holds it, who acted on it last, who woke the task and who made it', () => {
    const writer = task(7, 'writer', { state: 'waiting', location: { path: '/app/db.py', line: 30 } });
    const reader = task(8, 'reader', {
      location: { path: '/app/db.py', line: 12 },
      awaiting: { kind: 'future', id: 40, description: 'Lock.acquire(), times out in 4.500 s' },
      blockedOn: {
        kind: 'lock', id: 41, description: 'Lock db_lock, held by writer', name: 'db_lock',
        createdAt: { path: '/app/db.py', line: 3 }, owners: [ref(writer)],
        lastActor: { taskName: 'writer', taskId: 7, what: 'acquired', location: { path: '/app/db.py', line: 29 }, iteration: 12 },
      },
      wokenBy: { taskName: 'producer', taskId: 5, what: 'put into Queue', location: { path: '/app/pipe.py', line: 40 }, iteration: 9 },
      createdAt: { path: '/app/main.py', line: 20 },
      createdBy: [{ taskId: 1, taskName: 'Task-1', createdAt: { path: '/app/main.py', line: 50 } }],
    });
    const row = taskItem(reader, 1, 'r');
    assert.equal(row.description, 'reader · db.py:12 · Lock db_lock, held by writer, times out in 4.500 s');
    assert.match(String(row.tooltip), /waits on Lock db_lock, held by writer, times out in 4\.500 s\n {2}made at \/app\/db\.py:3\n {2}last: writer acquired at db\.py:29 \(iteration 12\)\nlast woken by producer put into Queue at pipe\.py:40 \(iteration 9\)/);
    const children = taskDetails(reader, 1, 'r');
    assert.deepEqual(labels(children), ['waits on: Lock db_lock, held by writer, times out in 4.500 s', 'held by: writer', 'last: writer',
      'woken by: producer', 'created at', 'created by: Task-1']);
    assert.deepEqual(children[0].reveal, { path: '/app/db.py', line: 3 });
    assert.equal(children[0].icon?.id, 'lock');
    assert.equal(children[1].taskId, 7);
    assert.equal(children[2].description, 'acquired at db.py:29 (iteration 12)');
    assert.deepEqual(children[3].reveal, { path: '/app/pipe.py', line: 40 });
    assert.equal(children[5].description, 'itself created at main.py:50');
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
