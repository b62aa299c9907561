// The Event Loop view's mapping: per loop its time, iteration, ready queue, timers and fds.
import * as assert from 'node:assert/strict';
import { EventLoopItem, eventLoopChildren, formatDueIn, formatLoopTime } from '../../extension/views/eventLoopTree';
import { ViewItem } from '../../extension/views/viewItem';
import { labels, loop, snapshot, task } from './snapshots';

const limits = new Map<string, number>();
const child = (index: ReturnType<typeof snapshot>, parent: ViewItem, label: string) => {
  const row = eventLoopChildren(index, parent as EventLoopItem, limits).find((r) => r.label === label);
  assert.ok(row, `no row ${label} under ${parent.label}`);
  return row;
};

const held = () => snapshot(loop(1, {
  iteration: 42, time: 1234.56789,
  tasks: [task(3, 'ticker', { location: { path: '/app/t.py', line: 9 } }), task(4, 'sleeper')],
  ready: [{ callback: 'Task.task_wakeup', taskId: 3, taskName: 'ticker' }, { callback: 'print_stats' }],
  timers: [
    { when: 1244.6, dueIn: 10.03211, callback: 'futures._set_result_unless_cancelled', taskId: 4, taskName: 'sleeper' },
    { when: 1235.8, dueIn: 1.2344, callback: 'Handle._run' },
    { when: 1234.5, dueIn: -0.0123, callback: 'late_callback' },
    { never: true, callback: 'futures._set_result_unless_cancelled' },
  ],
  watched: [{ fd: 7, events: 'read', callback: 'Server._accept' }],
}), loop(2, { state: 'running', osThread: 'worker' }));

describe('Event Loop view', () => {
  it('formats due times and loop time to the millisecond', () => {
    assert.equal(formatDueIn(1.2344), 'due in 1.234 s');
    assert.equal(formatDueIn(0), 'due in 0.000 s');
    assert.equal(formatDueIn(-0.0001), 'due in 0.000 s');
    assert.equal(formatDueIn(-0.0123), 'due now (0.012 s late)');
    assert.equal(formatDueIn(undefined, true), 'never due');
    assert.equal(formatLoopTime(1234.56789), 't=1234.568');
  });

  it('shows each loop with its iteration and time; a loop that is not held has nothing under it', () => {
    const roots = eventLoopChildren(held(), undefined, limits);
    assert.deepEqual(labels(roots), ['Event loop 1 (MainThread)', 'Event loop 2 (worker)']);
    assert.deepEqual(roots.map((r) => r.description), ['before iteration 43 · t=1234.568', 'running']);
    assert.deepEqual(roots.map((r) => r.collapsible), ['expanded', 'none']);
  });

  it('lists loop time and clock, iteration, and the counts of ready handles, timers and fds', () => {
    const index = held();
    const [loop1] = eventLoopChildren(index, undefined, limits);
    const parts = eventLoopChildren(index, loop1 as EventLoopItem, limits);
    assert.deepEqual(labels(parts), ['Loop time t=1234.568', 'Before iteration 43', 'Ready queue', 'Timers', 'Watched file descriptors']);
    assert.deepEqual(parts.map((p) => p.description), ['wall clock', undefined, '2', '4', '1']);
    assert.match(parts[1].tooltip ?? '', /next to run is 43/);
  });

  it('shows the ready queue in order, naming the task each handle steps', () => {
    const index = held();
    const ready = eventLoopChildren(index, child(index, eventLoopChildren(index, undefined, limits)[0], 'Ready queue') as EventLoopItem, limits);
    assert.deepEqual(labels(ready), ['Task.task_wakeup', 'print_stats']);
    assert.equal(ready[0].description, 'ticker');
    assert.equal(ready[0].taskId, 3);
    assert.deepEqual(ready[0].reveal, { path: '/app/t.py', line: 9 });
    assert.equal(ready[1].taskId, undefined);
  });

  it('sorts timers by due time and labels them "due in", those at infinity last as "never due"', () => {
    const index = held();
    const timers = eventLoopChildren(index, child(index, eventLoopChildren(index, undefined, limits)[0], 'Timers') as EventLoopItem, limits);
    assert.deepEqual(labels(timers), ['due now (0.012 s late)', 'due in 1.234 s', 'due in 10.032 s', 'never due']);
    assert.deepEqual(timers.map((t) => t.description), ['late_callback', 'Handle._run', 'futures._set_result_unless_cancelled · sleeper',
      'futures._set_result_unless_cancelled']);
    assert.match(timers[3].tooltip as string, /^Never: this timer is due at an infinite loop time/);
    assert.equal(new Set(timers.map((t) => t.id)).size, 4);
  });

  it('lists watched file descriptors with their events and callback', () => {
    const index = held();
    const fds = eventLoopChildren(index, child(index, eventLoopChildren(index, undefined, limits)[0], 'Watched file descriptors') as EventLoopItem, limits);
    assert.deepEqual(fds.map((f) => [f.label, f.description]), [['fd 7', 'read · Server._accept']]);
  });
});
