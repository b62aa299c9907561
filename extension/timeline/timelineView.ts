/// <reference lib="dom" />
// The timeline view's page script (a webview, bundled for the browser as dist/timelineView.js): draws
// timelineLayout's rows, slices, arrows and stops on a canvas. Wheel to zoom around the pointer, drag
// to pan, double-click to fit; clicking a slice that has a location opens it in the editor.
import type { ChromeTrace } from './chromeTrace';
import { layoutTimeline, sliceAt, TimelineLayout } from './timelineLayout';

declare function acquireVsCodeApi(): { postMessage(message: unknown): void };

const vscode = acquireVsCodeApi();
const LABEL_WIDTH = 240;
const ROW_HEIGHT = 24;
const TOP = 24;
const COLORS: Record<string, string> = {
  iteration: '#8a8a8a', select: '#4e9bd6', handles: '#d98c2b', step: '#4caf50', wakeup: '#26a69a', callback: '#9c6ade', blocked: '#e05252',
};

const canvas = document.getElementById('timeline') as HTMLCanvasElement;
const status = document.getElementById('status') as HTMLElement;
let layout: TimelineLayout | undefined;
let viewStart = 0;
let viewEnd = 1;
let drag: { x: number; start: number; end: number; moved: boolean } | undefined;

function fit(): void {
  if (!layout) return;
  const span = Math.max(layout.end - layout.start, 1);
  viewStart = layout.start - span * 0.01;
  viewEnd = layout.end + span * 0.01;
}

function xOf(time: number): number {
  return LABEL_WIDTH + ((time - viewStart) / (viewEnd - viewStart)) * (canvas.clientWidth - LABEL_WIDTH);
}

function timeOf(x: number): number {
  return viewStart + ((x - LABEL_WIDTH) / (canvas.clientWidth - LABEL_WIDTH)) * (viewEnd - viewStart);
}

function draw(): void {
  const ratio = window.devicePixelRatio || 1;
  const rows = layout?.rows.length ?? 0;
  canvas.style.height = `${TOP + Math.max(rows, 1) * ROW_HEIGHT}px`;
  canvas.width = canvas.clientWidth * ratio;
  canvas.height = canvas.clientHeight * ratio;
  const g = canvas.getContext('2d')!;
  g.scale(ratio, ratio);
  const style = getComputedStyle(document.body);
  const foreground = style.getPropertyValue('--vscode-foreground') || '#ccc';
  g.font = `12px ${style.getPropertyValue('--vscode-font-family') || 'sans-serif'}`;
  g.clearRect(0, 0, canvas.clientWidth, canvas.clientHeight);
  if (!layout) return;
  g.fillStyle = foreground;
  g.fillText(`${((viewEnd - viewStart) / 1000).toFixed(3)} ms shown`, LABEL_WIDTH, 14);
  layout.rows.forEach((row, i) => {
    g.fillStyle = foreground;
    g.fillText(row.label.length > 34 ? `${row.label.slice(0, 33)}…` : row.label, 4, TOP + i * ROW_HEIGHT + 15);
    g.fillStyle = 'rgba(128,128,128,0.15)';
    g.fillRect(LABEL_WIDTH, TOP + (i + 1) * ROW_HEIGHT - 1, canvas.clientWidth - LABEL_WIDTH, 1);
  });
  g.save();
  g.beginPath();
  g.rect(LABEL_WIDTH, 0, canvas.clientWidth - LABEL_WIDTH, canvas.clientHeight);
  g.clip();
  for (const slice of layout.slices) {
    if (slice.end < viewStart || slice.start > viewEnd) continue;
    const x = xOf(slice.start);
    const width = Math.max(1, xOf(slice.end) - x);
    const inset = Math.min(slice.depth, 2) * 5;
    g.fillStyle = COLORS[slice.cat] ?? '#888';
    g.fillRect(x, TOP + slice.row * ROW_HEIGHT + 2 + inset, width, ROW_HEIGHT - 5 - inset);
    if (width > 40) {
      g.fillStyle = '#fff';
      g.fillText(slice.name, x + 3, TOP + slice.row * ROW_HEIGHT + 16, width - 6);
    }
  }
  g.strokeStyle = foreground;
  for (const arrow of layout.arrows) {
    if (Math.max(arrow.fromTime, arrow.toTime) < viewStart || Math.min(arrow.fromTime, arrow.toTime) > viewEnd) continue;
    const [x1, y1] = [xOf(arrow.fromTime), TOP + arrow.fromRow * ROW_HEIGHT + ROW_HEIGHT / 2];
    const [x2, y2] = [xOf(arrow.toTime), TOP + arrow.toRow * ROW_HEIGHT + ROW_HEIGHT / 2];
    g.beginPath();
    g.moveTo(x1, y1);
    g.lineTo(x2, y2);
    g.stroke();
  }
  g.fillStyle = '#e05252';
  for (const instant of layout.instants) {
    const x = xOf(instant.time);
    g.fillRect(x - 1, TOP + instant.row * ROW_HEIGHT, 2, ROW_HEIGHT);
  }
  g.restore();
}

function rowAt(y: number): number {
  return Math.floor((y - TOP) / ROW_HEIGHT);
}

canvas.addEventListener('wheel', (event) => {
  event.preventDefault();
  const at = timeOf(event.offsetX);
  const factor = event.deltaY > 0 ? 1.25 : 0.8;
  viewStart = at - (at - viewStart) * factor;
  viewEnd = at + (viewEnd - at) * factor;
  draw();
}, { passive: false });
canvas.addEventListener('mousedown', (event) => { drag = { x: event.offsetX, start: viewStart, end: viewEnd, moved: false }; });
canvas.addEventListener('mousemove', (event) => {
  if (drag && event.buttons) {
    const shift = ((event.offsetX - drag.x) / (canvas.clientWidth - LABEL_WIDTH)) * (drag.end - drag.start);
    drag.moved = drag.moved || Math.abs(event.offsetX - drag.x) > 3;
    viewStart = drag.start - shift;
    viewEnd = drag.end - shift;
    draw();
    return;
  }
  const slice = layout && sliceAt(layout, rowAt(event.offsetY), timeOf(event.offsetX));
  canvas.title = slice ? slice.title : '';
  canvas.style.cursor = slice?.location ? 'pointer' : 'default';
});
canvas.addEventListener('mouseup', (event) => {
  const moved = drag?.moved;
  drag = undefined;
  if (moved || !layout) return;
  const slice = sliceAt(layout, rowAt(event.offsetY), timeOf(event.offsetX));
  if (slice?.location) vscode.postMessage({ type: 'reveal', location: slice.location });
});
canvas.addEventListener('dblclick', () => { fit(); draw(); });
document.getElementById('refresh')?.addEventListener('click', () => vscode.postMessage({ type: 'refresh' }));
document.getElementById('export')?.addEventListener('click', () => vscode.postMessage({ type: 'export' }));
window.addEventListener('resize', draw);
window.addEventListener('message', (event: MessageEvent<{ type: string; trace?: ChromeTrace; error?: string }>) => {
  if (event.data.type === 'error') {
    status.textContent = event.data.error ?? '';
    return;
  }
  if (event.data.type !== 'timeline' || !event.data.trace) return;
  layout = layoutTimeline(event.data.trace);
  status.textContent = layout.note ?? `${layout.slices.length.toLocaleString('en')} slices on ${layout.rows.length} tracks. Wheel: zoom · drag: pan · double-click: fit · click a step: go to its line.`;
  fit();
  draw();
});
vscode.postMessage({ type: 'ready' });
