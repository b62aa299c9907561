// The timeline webview's page script, the real bundle (dist/timelineView.js), run against a
// stand-in for the page: it draws what it is sent, and a click on a step asks to open its line.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { chromeTrace } from '../../extension/timeline/chromeTrace';

const BUNDLE = path.resolve(__dirname, '..', '..', '..', 'dist', 'timelineView.js');

function page() {
  const posted: unknown[] = [];
  const drawn: string[] = [];
  const handlers: Record<string, (event: any) => void> = {};
  const windowHandlers: Record<string, (event: any) => void> = {};
  const context = new Proxy({}, { get: (_t, name) => (typeof name === 'string' && /^(fill|stroke|clear|scale|save|restore|beginPath|moveTo|lineTo|rect|clip)/.test(name) ? (...args: unknown[]) => drawn.push(`${name}(${args.map((a) => (typeof a === 'number' ? Math.round(a) : a)).join(',')})`) : undefined), set: () => true });
  const canvas = {
    clientWidth: 1040, style: {} as Record<string, string>, title: '', width: 0, height: 0,
    get clientHeight() { return Number.parseInt(this.style.height ?? '100', 10); },
    getContext: () => context,
    addEventListener: (type: string, fn: (event: any) => void) => { handlers[type] = fn; },
  };
  const status = { textContent: '' };
  const buttons: Record<string, { addEventListener: (t: string, fn: () => void) => void }> = {
    refresh: { addEventListener: (_t, fn) => { handlers.refresh = fn; } },
    export: { addEventListener: (_t, fn) => { handlers.export = fn; } },
  };
  const sandbox = {
    acquireVsCodeApi: () => ({ postMessage: (message: unknown) => posted.push(message) }),
    document: { body: {}, getElementById: (id: string) => (id === 'timeline' ? canvas : id === 'status' ? status : buttons[id]) },
    getComputedStyle: () => ({ getPropertyValue: () => '' }),
    window: { devicePixelRatio: 1, addEventListener: (type: string, fn: (event: any) => void) => { windowHandlers[type] = fn; } },
  };
  vm.runInNewContext(readFileSync(BUNDLE, 'utf8'), sandbox);
  // Messages come from another realm: compared as plain data.
  return { messages: () => JSON.parse(JSON.stringify(posted)), drawn, handlers, windowHandlers, canvas, status };
}

describe('the timeline webview script', () => {
  const trace = chromeTrace({
    origin: 0, stepsRecorded: true, loops: [{ id: 1, name: 'Event loop 1 (MainThread)', iterations: [[1, 0, 100, 400]] }],
    subjects: [{ id: 2, name: 'worker', coroutine: 'work', loopId: 1 }],
    steps: [{ subject: 2, loopId: 1, iteration: 1, start: 100, duration: 300, kind: 'step', location: { path: '/app/main.py', line: 7 } }],
    stops: [], blocked: [],
  });

  it('says it is ready, draws the tracks and slices it is sent, and opens the line of a clicked step', () => {
    const view = page();
    assert.deepEqual(view.messages(), [{ type: 'ready' }]);
    view.windowHandlers.message({ data: { type: 'timeline', trace } });
    assert.match(view.status.textContent, /^4 slices on 4 tracks\./);
    assert.ok(view.drawn.some((d) => d.startsWith('fillText(iterations,')) && view.drawn.some((d) => d.startsWith('fillText(worker · work,')), view.drawn.join('\n'));
    assert.ok(view.drawn.filter((d) => d.startsWith('fillRect(')).length >= 4, 'slices drawn');
    // The worker's track is the fourth row; its step spans the middle of the 0–400 µs shown.
    const row = 3;
    const y = 24 + row * 24 + 12;
    const x = 240 + ((250 + 4) / 408) * (1040 - 240);
    view.handlers.mousedown({ offsetX: x, offsetY: y });
    view.handlers.mouseup({ offsetX: x, offsetY: y });
    assert.deepEqual(view.messages()[1], { type: 'reveal', location: { path: '/app/main.py', line: 7 } });
    view.handlers.refresh({});
    assert.deepEqual(view.messages()[2], { type: 'refresh' });
  });

  it('shows an error it is sent', () => {
    const view = page();
    view.windowHandlers.message({ data: { type: 'error', error: 'No Loopscope session is running.' } });
    assert.equal(view.status.textContent, 'No Loopscope session is running.');
  });
});
