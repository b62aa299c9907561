// What the timeline view draws, from the same Chrome Trace the export writes: one row per track
// (a loop's iterations, callbacks, blocked steps, each task), the slices on each row, the flow
// arrows, the stops. Pure and DOM-free: timelineView.ts draws it, test/views checks it.
import type { ChromeTrace } from './chromeTrace';

export interface TimelineRow { key: string; label: string; pid: number; tid: number }
export interface TimelineSlice {
  row: number;
  start: number;
  end: number;
  name: string;
  cat: string;
  /** Nesting depth on its row (select() and handles sit inside their iteration). */
  depth: number;
  title: string;
  location?: { path: string; line: number };
}
export interface TimelineArrow { fromRow: number; fromTime: number; toRow: number; toTime: number }
export interface TimelineInstant { row: number; time: number; name: string; title: string }

export interface TimelineLayout {
  rows: TimelineRow[];
  slices: TimelineSlice[];
  arrows: TimelineArrow[];
  instants: TimelineInstant[];
  /** The time range of everything, µs. */
  start: number;
  end: number;
  note?: string;
}

export function layoutTimeline(trace: ChromeTrace): TimelineLayout {
  const processNames = new Map<number, string>();
  const threadNames = new Map<string, string>();
  for (const e of trace.traceEvents) {
    if (e.ph !== 'M') continue;
    const name = String((e.args as { name?: string } | undefined)?.name ?? '');
    if (e.name === 'process_name') processNames.set(e.pid, name);
    if (e.name === 'thread_name') threadNames.set(`${e.pid}/${e.tid}`, name);
  }
  const rowIndex = new Map<string, number>();
  const rows: TimelineRow[] = [];
  // With one loop its tracks are named alone; with several, each says its loop first.
  const severalLoops = processNames.size > 1;
  const rowOf = (pid: number, tid: number) => {
    const key = `${pid}/${tid}`;
    let index = rowIndex.get(key);
    if (index === undefined) {
      index = rows.length;
      rowIndex.set(key, index);
      const track = threadNames.get(key) ?? `track ${tid}`;
      rows.push({ key, label: severalLoops ? `${processNames.get(pid) ?? `loop ${pid}`} · ${track}` : track, pid, tid });
    }
    return index;
  };
  // Rows in the order of their tracks: per loop, its iterations first, then callbacks, blocked steps, tasks.
  const keys = [...threadNames.keys()].map((k) => k.split('/').map(Number)).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (const [pid, tid] of keys) rowOf(pid, tid);

  const slices: TimelineSlice[] = [];
  const instants: TimelineInstant[] = [];
  const flowStarts = new Map<number, { row: number; time: number }>();
  const arrows: TimelineArrow[] = [];
  let start = Infinity;
  let end = -Infinity;
  for (const e of trace.traceEvents) {
    if (e.ph === 'X') {
      const args = (e.args ?? {}) as Record<string, unknown>;
      const location = typeof args.path === 'string' && typeof args.line === 'number' ? { path: args.path, line: args.line } : undefined;
      const details = Object.entries(args).filter(([k]) => k !== 'path' && k !== 'line').map(([k, v]) => `${k}: ${String(v)}`);
      slices.push({
        row: rowOf(e.pid, e.tid), start: e.ts, end: e.ts + (e.dur ?? 0), name: e.name, cat: e.cat ?? '', depth: 0,
        title: [`${e.name} · ${((e.dur ?? 0) / 1000).toFixed(3)} ms`, ...details].join('\n'), ...(location ? { location } : {}),
      });
      start = Math.min(start, e.ts);
      end = Math.max(end, e.ts + (e.dur ?? 0));
    } else if (e.ph === 'i') {
      instants.push({ row: rowOf(e.pid, e.tid), time: e.ts, name: e.name, title: String((e.args as { description?: string } | undefined)?.description ?? e.name) });
      start = Math.min(start, e.ts);
      end = Math.max(end, e.ts);
    } else if (e.ph === 's' && e.id !== undefined) {
      flowStarts.set(e.id, { row: rowOf(e.pid, e.tid), time: e.ts });
    } else if (e.ph === 'f' && e.id !== undefined) {
      const from = flowStarts.get(e.id);
      if (from) arrows.push({ fromRow: from.row, fromTime: from.time, toRow: rowOf(e.pid, e.tid), toTime: e.ts });
    }
  }
  // Depth on each row: a slice inside the one before it sits one level down.
  const byRow = new Map<number, TimelineSlice[]>();
  for (const slice of slices) byRow.set(slice.row, [...(byRow.get(slice.row) ?? []), slice]);
  for (const list of byRow.values()) {
    list.sort((a, b) => a.start - b.start || b.end - a.end);
    const open: TimelineSlice[] = [];
    for (const slice of list) {
      while (open.length && open[open.length - 1].end <= slice.start) open.pop();
      slice.depth = open.length;
      open.push(slice);
    }
  }
  if (!Number.isFinite(start)) start = end = 0;
  const note = typeof trace.otherData.note === 'string' && !trace.otherData.taskStepsRecorded ? trace.otherData.note : undefined;
  return { rows, slices, arrows, instants, start, end, ...(note ? { note } : {}) };
}

/** The slice under a point of a row, innermost first (for clicks). */
export function sliceAt(layout: TimelineLayout, row: number, time: number): TimelineSlice | undefined {
  let found: TimelineSlice | undefined;
  for (const slice of layout.slices) {
    if (slice.row === row && slice.start <= time && time <= slice.end && (!found || slice.depth > found.depth)) found = slice;
  }
  return found;
}
