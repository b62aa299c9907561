// A checker of the Trace Event Format (the JSON Perfetto and chrome://tracing import), as the format's
// specification describes it, strict where their importers are: known phases, finite times, complete
// slices properly nested on each track, flow events paired and bound to an enclosing slice.
// Returns the problems found (none for a valid trace).

const PHASES = new Set(['X', 'B', 'E', 'i', 'I', 's', 't', 'f', 'M', 'C', 'b', 'n', 'e']);
const METADATA = new Set(['process_name', 'process_sort_index', 'thread_name', 'thread_sort_index', 'process_labels']);

interface Event { name?: unknown; ph?: unknown; ts?: unknown; dur?: unknown; pid?: unknown; tid?: unknown; id?: unknown; s?: unknown; bp?: unknown; cat?: unknown; args?: unknown }

export function traceFormatProblems(trace: unknown): string[] {
  const problems: string[] = [];
  if (typeof trace !== 'object' || trace === null || !Array.isArray((trace as { traceEvents?: unknown }).traceEvents)) {
    return ['a trace is an object with a traceEvents array'];
  }
  const { traceEvents, displayTimeUnit } = trace as { traceEvents: Event[]; displayTimeUnit?: unknown };
  if (displayTimeUnit !== undefined && displayTimeUnit !== 'ms' && displayTimeUnit !== 'ns') problems.push(`displayTimeUnit ${String(displayTimeUnit)}`);
  const slices = new Map<string, { ts: number; end: number; name: string }[]>();
  const flows = new Map<string, { s?: Event; f?: Event }>();
  traceEvents.forEach((e, i) => {
    const at = `event ${i} (${String(e.name)})`;
    if (typeof e.name !== 'string') problems.push(`${at}: name is not a string`);
    if (typeof e.ph !== 'string' || !PHASES.has(e.ph)) problems.push(`${at}: unknown phase ${String(e.ph)}`);
    if (!Number.isInteger(e.pid) || !Number.isInteger(e.tid)) problems.push(`${at}: pid and tid must be integers`);
    if (typeof e.ts !== 'number' || !Number.isFinite(e.ts)) problems.push(`${at}: ts must be a finite number`);
    if (e.args !== undefined && (typeof e.args !== 'object' || e.args === null || Array.isArray(e.args))) problems.push(`${at}: args must be an object`);
    const track = `${e.pid}/${e.tid}`;
    switch (e.ph) {
      case 'X':
        if (typeof e.dur !== 'number' || !Number.isFinite(e.dur) || e.dur < 0) problems.push(`${at}: a complete slice needs a duration >= 0`);
        else slices.set(track, [...(slices.get(track) ?? []), { ts: e.ts as number, end: (e.ts as number) + e.dur, name: e.name as string }]);
        break;
      case 'i': case 'I':
        if (e.s !== undefined && !['g', 'p', 't'].includes(e.s as string)) problems.push(`${at}: instant scope ${String(e.s)}`);
        break;
      case 's': case 'f': case 't': {
        if (e.id === undefined || typeof e.cat !== 'string') problems.push(`${at}: a flow event needs an id and a cat`);
        if (e.ph === 'f' && e.bp !== undefined && e.bp !== 'e') problems.push(`${at}: binding point ${String(e.bp)}`);
        const key = `${String(e.cat)}/${String(e.id)}`;
        const pair = flows.get(key) ?? {};
        if (e.ph !== 't') {
          if (pair[e.ph]) problems.push(`${at}: a second flow ${e.ph} with id ${key}`);
          pair[e.ph] = e;
        }
        flows.set(key, pair);
        break;
      }
      case 'M':
        if (!METADATA.has(e.name as string)) problems.push(`${at}: unknown metadata ${String(e.name)}`);
        break;
    }
  });
  for (const [track, list] of slices) {
    list.sort((a, b) => a.ts - b.ts || b.end - a.end);
    const open: { end: number; name: string }[] = [];
    for (const slice of list) {
      while (open.length && open[open.length - 1].end <= slice.ts) open.pop();
      const parent = open[open.length - 1];
      if (parent && slice.end > parent.end + 1e-6) {
        problems.push(`track ${track}: slice ${slice.name} at ${slice.ts} overlaps ${parent.name} without nesting in it`);
      }
      open.push(slice);
    }
  }
  const enclosed = (e: Event) => (slices.get(`${e.pid}/${e.tid}`) ?? []).some((s) => s.ts <= (e.ts as number) && (e.ts as number) <= s.end);
  for (const [key, pair] of flows) {
    if (!pair.s || !pair.f) problems.push(`flow ${key}: needs both a start and a finish`);
    if (pair.s && !enclosed(pair.s)) problems.push(`flow ${key}: its start is not inside a slice`);
    if (pair.f && !enclosed(pair.f)) problems.push(`flow ${key}: its finish is not inside a slice`);
  }
  return problems;
}
