// Following a session's phase from its DAP traffic, and the status bar text of a stop.
import * as assert from 'node:assert/strict';
import { SessionPhase, statusBarText, statusBarTooltip } from '../../extension/views/sessionPhase';

const stopped = (threadId: number, iteration: number, time: number) => ({
  type: 'event', event: 'stopped',
  body: { reason: 'step', threadId, description: `Held before iteration ${iteration + 1}`, loopscope: { iteration, time, where: 'iteration' } },
});
const request = (seq: number, command: string) => ({ type: 'request', seq, command, arguments: { threadId: 1 } });
const response = (requestSeq: number, command: string, success = true) => ({ type: 'response', request_seq: requestSeq, command, success });

function followed() {
  const changes: string[] = [];
  const phase = new SessionPhase(() => changes.push(phase.phase));
  return { phase, changes };
}

describe('session phase', () => {
  it('is running until the first stop, then stopped with the stop\'s loop facts', () => {
    const { phase, changes } = followed();
    assert.equal(phase.phase, 'starting');
    phase.fromAdapter(stopped(1, 4, 12.3456));
    assert.equal(phase.phase, 'stopped');
    assert.deepEqual(phase.stop, { reason: 'step', threadId: 1, description: 'Held before iteration 5', iteration: 4, time: 12.3456, where: 'iteration' });
    assert.deepEqual(changes, ['stopped']);
  });

  it('keeps the stop\'s sentence (text), not the short label VS Code shows beside the thread', () => {
    const { phase } = followed();
    const sentence = 'Deadlock: tasks left and right wait on each other through locks';
    phase.fromAdapter({ type: 'event', event: 'stopped',
      body: { reason: 'deadlock', threadId: 1, description: 'deadlock', text: sentence, loopscope: { iteration: 7, time: 1, where: 'iteration' } } });
    assert.equal(phase.stop?.description, sentence);
    assert.match(statusBarTooltip(phase.stop!), /^Deadlock: tasks left and right/);
  });

  it('runs from the moment a step is requested, even when the stop arrives before the response', () => {
    const { phase, changes } = followed();
    phase.fromAdapter(stopped(1, 4, 1));
    const before = phase.generation;
    phase.fromClient(request(7, 'next'));
    assert.equal(phase.phase, 'running');
    phase.fromAdapter(stopped(1, 5, 2));
    phase.fromAdapter(response(7, 'next'));
    assert.equal(phase.phase, 'stopped');
    assert.equal(phase.stop?.iteration, 5);
    assert.ok(phase.generation > before + 1, 'a new stop is a new generation');
    assert.deepEqual(changes, ['stopped', 'running', 'stopped']);
  });

  it('counts Step Loop Iteration and continued events as running, and ignores other requests', () => {
    const { phase } = followed();
    phase.fromAdapter(stopped(1, 4, 1));
    phase.fromClient(request(3, 'stackTrace'));
    phase.fromClient(request(4, 'loopscope/snapshot'));
    assert.equal(phase.phase, 'stopped');
    phase.fromClient(request(5, 'loopscope/stepIteration'));
    assert.equal(phase.phase, 'running');
    phase.fromAdapter(stopped(1, 5, 2));
    phase.fromAdapter({ type: 'event', event: 'continued', body: { threadId: 1, allThreadsContinued: true } });
    assert.equal(phase.phase, 'running');
  });

  it('shows the stop again when the adapter refuses to resume', () => {
    const { phase } = followed();
    phase.fromAdapter(stopped(1, 4, 1));
    const generation = phase.generation;
    phase.fromClient(request(9, 'continue'));
    phase.fromAdapter(response(9, 'continue', false));
    assert.equal(phase.phase, 'stopped');
    assert.equal(phase.stop?.iteration, 4);
    assert.ok(phase.generation > generation, 'what was fetched for the stop is fetched again');
  });

  it('ends at terminated and stays ended', () => {
    const { phase } = followed();
    phase.fromAdapter(stopped(1, 4, 1));
    phase.fromAdapter({ type: 'event', event: 'terminated' });
    assert.equal(phase.phase, 'ended');
    phase.fromAdapter(stopped(1, 5, 1));
    phase.fromClient(request(2, 'continue'));
    assert.equal(phase.phase, 'ended');
    assert.equal(phase.stop, undefined);
  });

  it('refresh makes a new generation of the same stop', () => {
    const { phase, changes } = followed();
    phase.refresh();
    assert.deepEqual(changes, [], 'nothing to refresh before a stop');
    phase.fromAdapter(stopped(1, 4, 1));
    const generation = phase.generation;
    phase.refresh();
    assert.equal(phase.generation, generation + 1);
    assert.equal(phase.stop?.iteration, 4);
  });

  it('fetches again after a request that changes the paused program succeeds, not after hovers', () => {
    const { phase } = followed();
    phase.fromAdapter(stopped(1, 4, 1));
    const generation = phase.generation;
    phase.fromClient({ type: 'request', seq: 11, command: 'evaluate', arguments: { expression: 'x', context: 'hover' } });
    phase.fromAdapter(response(11, 'evaluate'));
    phase.fromClient({ type: 'request', seq: 12, command: 'loopscope/cancelTask', arguments: { taskId: 3 } });
    phase.fromAdapter(response(12, 'loopscope/cancelTask', false));
    assert.equal(phase.generation, generation, 'a hover and a refused cancel change nothing');
    phase.fromClient({ type: 'request', seq: 13, command: 'loopscope/cancelTask', arguments: { taskId: 3 } });
    phase.fromClient({ type: 'request', seq: 14, command: 'evaluate', arguments: { expression: 'make_task()', context: 'repl' } });
    phase.fromAdapter(response(13, 'loopscope/cancelTask'));
    phase.fromAdapter(response(14, 'evaluate'));
    assert.equal(phase.generation, generation + 2);
    assert.equal(phase.phase, 'stopped');
    assert.equal(phase.stop?.iteration, 4);
  });

  it('writes the status bar text and tooltip from the stop', () => {
    // "iteration N" means one thing everywhere: before it (between iterations), or in it.
    assert.equal(statusBarText({ reason: 'step', iteration: 1234, time: 5.4321, where: 'iteration' }), 'Loop before iteration 1,235 · t=5.432');
    assert.equal(statusBarText({ reason: 'pause', iteration: 1234, time: 5.4321, where: 'handle' }), 'Loop in iteration 1,234 · t=5.432');
    assert.equal(statusBarText({ reason: 'step' }), undefined);
    assert.equal(statusBarText(undefined), undefined);
    assert.equal(statusBarTooltip({ reason: 'step', description: 'Held before iteration 5', iteration: 4, where: 'iteration' }),
      'Held before iteration 5\nNext: iteration 5\nClick to show the Event Loop view.');
    assert.match(statusBarTooltip({ reason: 'step', where: 'handle', handle: { callback: 'Task.__step', taskName: 'a' } }),
      /Next handle: task a \(Task.__step\)/);
  });
});
