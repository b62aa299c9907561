// The Loop blocked filter's condition: its threshold, as the user types it in the Breakpoints view
// ("250", "250ms", "0.5s"). Parsed here, once, for the adapter and the CLI; the runtime gets milliseconds.

/** The threshold in milliseconds, or an error that says what to type. An empty condition is the default. */
export function parseLoopBlockedThreshold(condition: string | undefined, fallbackMs: number): { ms: number } | { error: string } {
  const text = (condition ?? '').trim();
  if (text === '') return { ms: fallbackMs };
  const match = /^(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)?$/i.exec(text);
  const ms = match ? Number(match[1]) * (match[2]?.toLowerCase() === 's' ? 1000 : 1) : NaN;
  if (!Number.isFinite(ms) || ms < 1 || ms > 3_600_000) {
    return { error: `The Loop blocked condition is a threshold from 1 ms to 1 hour, such as 250, 250ms or 0.5s; "${text}" is not one.` };
  }
  return { ms };
}
