// Durations typed by the user ("5", "0.5", "90s", "2m", "250ms"), for Advance Loop Clock.

/** Seconds from what the user typed, or a message saying what is wrong. */
export function parseSeconds(text: string): number | string {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(s|m|ms)?\s*$/.exec(text);
  if (!match) return 'Type a duration such as 5, 0.5, 90s, 2m or 250ms.';
  const value = Number(match[1]);
  return match[2] === 'm' ? value * 60 : match[2] === 'ms' ? value / 1000 : value;
}
