// The Task Switches view's mapping: recent iterations newest first, the steps each ran with where,
// the stretches that were not recorded, grammar and durations.
import * as assert from 'node:assert/strict';
import type { TaskSwitchesBody } from '../../extension/adapter/protocol';
import { SwitchKey, formatDuration, taskSwitchRows, taskSwitchesSummary } from '../../extension/views/taskSwitchesTree';
import { ViewItem } from '../../extension/views/viewItem';
import { labels } from './snapshots';

describe('Task Switches view', () => {
  const body: TaskSwitchesBody = {
    recorded: 1234,
    switches: [
      { iteration: 9, time: 10.5, loopId: 1, callback: 'Task.__step', taskId: 3, taskName: 'consumer-2', coroutine: 'consume',
        resumedAt: { path: '/app/pc.py', line: 12 }, suspendedAt: { path: '/app/pc.py', line: 15 }, durationMs: 0.25 },
      { iteration: 9, time: 10.5, loopId: 1, callback: 'print_stats' },
      { iteration: 8, time: 10.4, loopId: 1, callback: 'Task.task_wakeup', taskId: 2, taskName: 'producer', durationMs: 12.5 },
      { iteration: 7, time: 10.3, loopId: 1, callback: '(not recorded)', gap: { fromIteration: 4, toIteration: 7, why: 'ranFreely' } },
    ],
  };
  const top = taskSwitchRows(body, undefined, new Map());
  const under = (row: ViewItem) => taskSwitchRows(body, row as ViewItem<SwitchKey>, new Map());

  it('shows one row per iteration, newest first and open, with what it ran under it', () => {
    assert.deepEqual(labels(top), ['Iteration 9', 'Iteration 8', 'Iterations 4–7']);
    assert.deepEqual(top.slice(0, 2).map((r) => r.description), ['2 steps · 250 µs · t=10.500', '1 step · 12.5 ms · t=10.400']);
    assert.deepEqual(top.map((r) => r.collapsible), ['expanded', 'collapsed', 'none']);
    const steps = under(top[0]);
    assert.deepEqual(labels(steps), ['consumer-2', 'print_stats']);
    assert.deepEqual(steps.map((r) => r.description), ['Task.__step · pc.py:12 → pc.py:15 · 250 µs', '']);
    assert.deepEqual(steps[0].reveal, { path: '/app/pc.py', line: 12 });
    assert.equal(steps[0].taskId, 3);
    assert.equal(steps[0].contextValue, 'task.switch', 'a task step has the task commands in its context menu');
    assert.equal(steps[1].contextValue, undefined);
    assert.match(steps[0].tooltip ?? '', /Task consumer-2 \(consume\): Task.__step\nresumed at \/app\/pc.py:12/);
  });

  it('says which iterations ran without being recorded, never a silent gap', () => {
    const gap = top[2];
    assert.equal(gap.description, 'ran freely: not recorded');
    assert.match(gap.tooltip ?? '', /taskSwitchHistory/);
    const matching = taskSwitchRows({ recorded: 0, switches: [
      { iteration: 22, time: 0, loopId: 1, callback: '(not recorded)', gap: { fromIteration: 5, toIteration: 22, why: 'onlyMatchingTasks' } }] },
    undefined, new Map());
    assert.equal(matching[0].label, 'Iterations 5–22');
    assert.match(matching[0].description ?? '', /only the steps of tasks a function breakpoint may match/);
  });

  it('pages the iterations and says how much of the history it shows, in good English', () => {
    const many: TaskSwitchesBody = {
      recorded: 5000,
      switches: Array.from({ length: 500 }, (_, i) => ({ iteration: 500 - i, time: 0, loopId: 1, callback: `cb${i}` })),
    };
    const rows = taskSwitchRows(many, undefined, new Map());
    assert.equal(rows.length, 201);
    assert.equal(rows[200].label, 'Show more…');
    assert.equal(taskSwitchesSummary(many), 'last 500 of 5,000 recorded steps');
    assert.equal(taskSwitchesSummary(body), 'last 3 of 1,234 recorded steps');
    assert.equal(taskSwitchesSummary({ recorded: 2, switches: body.switches.slice(0, 2) }), '2 recorded steps');
    assert.equal(taskSwitchesSummary({ recorded: 1, switches: body.switches.slice(0, 1) }), '1 recorded step');
  });

  it('formats durations', () => {
    assert.equal(formatDuration(0.0424), '42 µs');
    assert.equal(formatDuration(3.14159), '3.14 ms');
    assert.equal(formatDuration(250), '250.0 ms');
  });
});
