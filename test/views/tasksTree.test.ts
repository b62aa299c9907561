// The Asyncio Tasks view's mapping: grouping, rows, children, deadlocks, paging, filter.
import * as assert from 'node:assert/strict';
import { TaskItem, TaskTreeOptions, awaitChainText, deadlockLabel, taskChildren } from '../../extension/views/tasksTree';
import { PAGE_SIZE, ViewItem } from '../../extension/views/viewItem';
import { labels, loop, snapshot, task, walk } from './snapshots';

const plain: TaskTreeOptions = { limits: new Map() };
const childrenOf = (index: ReturnType<typeof snapshot>, options = plain) =>
  (parent?: ViewItem) => taskChildren(index, parent as TaskItem | undefined, options);
const find = (rows: ViewItem[], label: string) => {
  const row = rows.find((r) => r.label === label);
  assert.ok(row, `no row '${label}' in ${JSON.stringify(labels(rows))}`);
  return row;
};

// main gathers two workers; worker-2 sleeps; a finished and a failed task; one task about to run.
const app = '/home/me/app.py';
const producerConsumer = () => snapshot(loop(1, {
  tasks: [
    task(1, 'main', {
      stack: [{ name: 'main', path: app, line: 30 }], location: { path: app, line: 30 },
      awaiting: { kind: 'future', id: 90, description: 'gather of 2' }, createdAt: { path: app, line: 40 }, steps: 3,
    }),
    task(2, 'worker-1', {
      state: 'running', stack: [{ name: 'work', path: app, line: 12 }, { name: 'worker', path: app, line: 20 }],
      location: { path: app, line: 12 }, awaitedBy: [1],
    }),
    task(3, 'worker-2', {
      stack: [{ name: 'worker', path: app, line: 21 }], location: { path: app, line: 21 }, awaitedBy: [1],
      awaiting: { kind: 'sleep', id: 91, description: 'sleep, due in 0.500 s' },
    }),
    task(4, 'ticker', { state: 'ready', location: { path: app, line: 5 }, stack: [{ name: 'ticker', path: app, line: 5 }] }),
    task(5, 'setup', { state: 'done', result: "'ok'" }),
    task(6, 'flaky', { state: 'failed', exception: "ValueError('boom')", createdAt: { path: app, line: 41 } }),
  ],
}));

describe('Asyncio Tasks view', () => {
  it('groups the tasks by state, in the order running, ready, waiting, failed, cancelled, done, with counts', () => {
    const roots = taskChildren(producerConsumer(), undefined, plain);
    assert.deepEqual(labels(roots), ['Running (1)', 'Ready (1)', 'Waiting (2)', 'Failed (1)', 'Done (1)']);
    assert.deepEqual(roots.map((r) => r.collapsible), ['expanded', 'expanded', 'expanded', 'expanded', 'collapsed']);
  });

  it('shows each task with its coroutine, where it is suspended and what it awaits', () => {
    const index = producerConsumer();
    const waiting = taskChildren(index, find(taskChildren(index, undefined, plain), 'Waiting (2)') as TaskItem, plain);
    assert.deepEqual(labels(waiting), ['main', 'worker-2']);
    const [main, worker2] = waiting;
    assert.equal(main.description, 'main · app.py:30 · gather of 2');
    assert.equal(worker2.description, 'worker · app.py:21 · sleep, due in 0.500 s');
    assert.equal(main.contextValue, 'task.live');
    assert.equal(main.taskId, 1);
    assert.deepEqual(main.reveal, { path: app, line: 30 });
    assert.match(main.tooltip ?? '', /awaits gather of 2\ncreated at \/home\/me\/app.py:40\n3 steps/);
  });

  it('says what finished tasks returned or raised, and offers no Cancel on them', () => {
    const index = producerConsumer();
    const roots = taskChildren(index, undefined, plain);
    const [failed] = taskChildren(index, find(roots, 'Failed (1)') as TaskItem, plain);
    const [done] = taskChildren(index, find(roots, 'Done (1)') as TaskItem, plain);
    assert.equal(failed.description, "flaky · raised ValueError('boom')");
    assert.equal(done.description, "setup · returned 'ok'");
    assert.equal(failed.contextValue, 'task.finished');
    assert.deepEqual(failed.reveal, { path: app, line: 41 }, 'a task with no location reveals where it was created');
  });

  it('lists under a task its await chain innermost first, then the tasks it awaits and the tasks awaiting it', () => {
    const index = producerConsumer();
    const roots = taskChildren(index, undefined, plain);
    const [worker1] = taskChildren(index, find(roots, 'Running (1)') as TaskItem, plain);
    const details = taskChildren(index, worker1 as TaskItem, plain);
    assert.deepEqual(labels(details), ['work', 'worker', 'awaited by: main']);
    assert.deepEqual(details.map((d) => d.description), ['app.py:12', 'app.py:20', 'main · app.py:30 · gather of 2']);
    assert.deepEqual(details[1].reveal, { path: app, line: 20 });
    assert.equal(details[2].taskId, 1);
    assert.equal(details[2].collapsible, 'collapsed', 'a linked task expands like any task');

    const main = find(taskChildren(index, find(roots, 'Waiting (2)') as TaskItem, plain), 'main');
    const mainDetails = taskChildren(index, main as TaskItem, plain);
    // main awaits a gather future, seen through the workers' awaitedBy.
    assert.deepEqual(labels(mainDetails), ['main', 'awaits: worker-1', 'awaits: worker-2', 'awaits: gather of 2', 'created at']);
    assert.deepEqual(mainDetails[4].reveal, { path: app, line: 40 });
  });

  it('puts a warning for each deadlock at the top, naming the cycle, with the tasks in it below', () => {
    const index = snapshot(loop(1, {
      tasks: [
        task(1, 'a', { awaiting: { kind: 'task', id: 2, description: 'task b' }, awaitedBy: [2] }),
        task(2, 'b', { awaiting: { kind: 'task', id: 1, description: 'task a' }, awaitedBy: [1] }),
      ],
      deadlocks: [[1, 2]],
    }));
    const roots = taskChildren(index, undefined, plain);
    assert.deepEqual(labels(roots), ['Deadlock: a → b → a', 'Waiting (2)']);
    assert.equal(roots[0].icon?.id, 'warning');
    assert.deepEqual(labels(taskChildren(index, roots[0] as TaskItem, plain)), ['in cycle: a', 'in cycle: b']);
    assert.equal(deadlockLabel(index, [1, 2, 99]), 'Deadlock: a → b → task 99 → a');
    // A task that awaits another directly is listed once, not also as a bare 'awaits' row.
    const [a] = taskChildren(index, roots[1] as TaskItem, plain);
    assert.deepEqual(labels(taskChildren(index, a as TaskItem, plain)), ['awaits: b', 'awaited by: b']);
  });

  it('shows a long group a page at a time, with a Show more… row', () => {
    const many = Array.from({ length: 450 }, (_, i) => task(i + 1, `job-${i + 1}`));
    const index = snapshot(loop(1, { tasks: many }));
    const [group] = taskChildren(index, undefined, plain);
    assert.equal(group.label, 'Waiting (450)');

    const first = taskChildren(index, group as TaskItem, plain);
    assert.equal(first.length, PAGE_SIZE + 1);
    const more = first[first.length - 1];
    assert.equal(more.label, 'Show more…');
    assert.equal(more.description, '200 of 450 shown');
    assert.equal(more.moreOf, group.id);
    assert.equal(more.collapsible, 'none');

    const grown = { limits: new Map([[group.id, 400]]) };
    assert.equal(taskChildren(index, group as TaskItem, grown).length, 401);
    const all = { limits: new Map([[group.id, 600]]) };
    const rows = taskChildren(index, group as TaskItem, all);
    assert.equal(rows.length, 450);
    assert.equal(rows[449].label, 'job-450');
  });

  it('notes the live tasks the snapshot did not fetch', () => {
    const index = snapshot(loop(1, { tasks: [task(1, 'a'), task(2, 'b')], tasksTotal: 5000 }));
    assert.deepEqual(labels(taskChildren(index, undefined, plain)), ['Waiting (2)', '4,998 more tasks not fetched']);
    const one = snapshot(loop(1, { tasks: [task(1, 'a')], tasksTotal: 2 }));
    assert.deepEqual(labels(taskChildren(one, undefined, plain)), ['Waiting (1)', '1 more task not fetched']);
  });

  it('filters by a substring of the name or coroutine, in any case, showing matched of all', () => {
    const index = producerConsumer();
    const worker = { filter: 'WORKER', limits: new Map() };
    const roots = taskChildren(index, undefined, worker);
    assert.deepEqual(labels(roots), ['Running (1 of 1)', 'Waiting (1 of 2)']);
    assert.deepEqual(labels(taskChildren(index, roots[1] as TaskItem, worker)), ['worker-2']);

    const none = { filter: 'nothing-like-this', limits: new Map() };
    assert.deepEqual(labels(taskChildren(index, undefined, none)), ['No task matches "nothing-like-this"']);
  });

  it('shows one row per loop when several loops are listed', () => {
    const index = snapshot(
      loop(1, { tasks: [task(1, 'main')] }),
      loop(2, { osThread: 'worker-thread', tasks: [task(2, 'poll', { state: 'ready' })] }),
      loop(3, { state: 'running', osThread: 'other' }),
    );
    const roots = taskChildren(index, undefined, plain);
    assert.deepEqual(labels(roots), ['Event loop 1 (MainThread)', 'Event loop 2 (worker-thread)', 'Event loop 3 (other)']);
    assert.deepEqual(roots.map((r) => r.description), ['1 task', '1 task', 'running']);
    assert.equal(roots[2].collapsible, 'none');
    assert.deepEqual(labels(taskChildren(index, roots[1] as TaskItem, plain)), ['Ready (1)']);
  });

  it('gives every row of an expanded tree its own id, the same at the next stop', () => {
    const rows = walk(taskChildren(producerConsumer(), undefined, plain), childrenOf(producerConsumer()), 3);
    const ids = rows.map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length, `duplicate ids in ${ids.join(' ')}`);
    const again = walk(taskChildren(producerConsumer(), undefined, plain), childrenOf(producerConsumer()), 3).map((r) => r.id);
    assert.deepEqual(again, ids);
  });

  it('copies the await chain as text, innermost frame first', () => {
    const index = producerConsumer();
    assert.equal(awaitChainText(index.tasks.get(2)!.task),
      'Task worker-1 (worker), running\n  work    /home/me/app.py:12\n  worker  /home/me/app.py:20\n');
    assert.equal(awaitChainText(index.tasks.get(3)!.task),
      'Task worker-2 (worker), waiting: sleep, due in 0.500 s\n  worker  /home/me/app.py:21\n');
  });
});
