// The Task Switches view's mapping: recent steps newest first, with where each ran.
import * as assert from 'node:assert/strict';
import type { TaskSwitchesBody } from '../../extension/adapter/protocol';
import { formatDuration, taskSwitchRows, taskSwitchesSummary } from '../../extension/views/taskSwitchesTree';
import { labels } from './snapshots';

describe('Task Switches view', () => {
  const body: TaskSwitchesBody = {
    recorded: 1234,
    switches: [
      { iteration: 9, time: 10.5, loopId: 1, callback: 'Task.__step', taskId: 3, taskName: 'consumer-2', coroutine: 'consume',
        resumedAt: { path: '/app/pc.py', line: 12 }, suspendedAt: { path: '/app/pc.py', line: 15 }, durationMs: 0.25 },
      { iteration: 9, time: 10.5, loopId: 1, callback: 'print_stats' },
      { iteration: 8, time: 10.4, loopId: 1, callback: 'Task.task_wakeup', taskId: 2, taskName: 'producer', durationMs: 12.5 },
    ],
  };

  it('keeps the order of the answer (newest first) and names the task, else the callback', () => {
    const rows = taskSwitchRows(body, new Map());
    assert.deepEqual(labels(rows), ['consumer-2', 'print_stats', 'producer']);
    assert.deepEqual(rows.map((r) => r.description), [
      'iteration 9 · Task.__step · pc.py:12 → pc.py:15 · 250 µs',
      'iteration 9',
      'iteration 8 · Task.task_wakeup · 12.5 ms',
    ]);
    assert.deepEqual(rows[0].reveal, { path: '/app/pc.py', line: 12 });
    assert.equal(rows[0].taskId, 3);
    assert.match(rows[0].tooltip ?? '', /Task consumer-2 \(consume\): Task.__step\nresumed at \/app\/pc.py:12/);
  });

  it('pages the list and says how much of the history it shows', () => {
    const many: TaskSwitchesBody = {
      recorded: 5000,
      switches: Array.from({ length: 500 }, (_, i) => ({ iteration: 500 - i, time: 0, loopId: 1, callback: `cb${i}` })),
    };
    const rows = taskSwitchRows(many, new Map());
    assert.equal(rows.length, 201);
    assert.equal(rows[200].label, 'Show more…');
    assert.equal(taskSwitchesSummary(many), 'last 500 of 5,000 recorded steps');
    assert.equal(taskSwitchesSummary(body), 'last 3 of 1,234 recorded steps');
    assert.equal(taskSwitchesSummary({ recorded: 2, switches: body.switches.slice(0, 2) }), '2 recorded steps');
  });

  it('formats durations', () => {
    assert.equal(formatDuration(0.0424), '42 µs');
    assert.equal(formatDuration(3.14159), '3.14 ms');
    assert.equal(formatDuration(250), '250.0 ms');
  });
});
