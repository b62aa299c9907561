// Going back in time in a recorded or replayed session: where the session's recording lives, and
// which stops of a re-run are passed over on the way to the one the user asked for. The re-run
// itself (a new runtime replaying the recording to a target iteration) is session.ts's.
import { randomInt } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, openSync, readSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inflateSync } from 'node:zlib';
import type { RuntimeEvents, StopReason } from './protocol';

/** The file a session records to: launch.json's "record" (true: .loopscope/NAME.lsrec beside the
 * program), or, for a session that only replays (or explores), a file of its own in the temp directory so that
 * it can step back past where the replay went live. undefined: the session does not record. */
export function sessionRecordingPath(options: { record?: string | boolean; replay?: string; explore?: object; program?: string; module?: string; cwd: string }): string | undefined {
  if (typeof options.record === 'string') return path.resolve(options.cwd, options.record);
  const name = options.program ? path.basename(options.program, '.py') : options.module ?? 'program';
  if (options.record === true) {
    return path.join(options.program ? path.dirname(options.program) : options.cwd, '.loopscope', `${name}.lsrec`);
  }
  if (options.replay !== undefined || options.explore !== undefined) return path.join(os.tmpdir(), `loopscope-${process.pid}-${name}.lsrec`);
  return undefined;
}

/** A copy of the recording as it is now, for the re-run to replay while it records anew to the
 * original path (which then holds the session's whole timeline again). */
export function snapshotRecording(recording: string): string {
  if (!existsSync(recording)) throw new Error(`The recording ${recording} is gone, so Loopscope cannot go back in time; record the run again.`);
  const copy = `${recording}.back`;
  copyFileSync(recording, copy);
  return copy;
}

/** The environment a recording or replaying run starts with: the same PYTHONHASHSEED as the run
 * replayed (a new one when recording afresh), so that sets of strings iterate in the same order.
 * LOOPSCOPE_HASH_SEED tells the runtime that Loopscope set it, to take it out of the program's
 * os.environ. Nothing when the user set PYTHONHASHSEED, or the recording ran without one. */
export function hashSeedEnvironment(userEnv: Record<string, string | null>, replaying: string | undefined): Record<string, string> {
  if ('PYTHONHASHSEED' in userEnv || process.env.PYTHONHASHSEED !== undefined) return {};
  const seed = replaying === undefined ? randomInt(1, 2 ** 32 - 1) : recordedHashSeed(replaying);
  return seed === undefined ? {} : { PYTHONHASHSEED: String(seed), LOOPSCOPE_HASH_SEED: String(seed) };
}

/** The hashSeed in a recording's header, if it can be read (the runtime says what is wrong with a bad file). */
function recordedHashSeed(file: string): number | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(8 + 4);
    if (readSync(fd, head, 0, head.length, 0) < head.length || head.subarray(0, 8).toString() !== 'LSREC 1\n') return undefined;
    const length = head.readUInt32BE(8);
    if (length > 1 << 20) return undefined;
    const frame = Buffer.alloc(length);
    readSync(fd, frame, 0, length, 12);
    const seed = JSON.parse(inflateSync(frame).toString('utf8')).hashSeed;
    return Number.isInteger(seed) ? seed : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** At the session's end: the copies going back made, and the recording too when the session made it
 * only to go back (a replay without "record"). */
export function removeSessionFiles(recording: string, ownRecording: boolean): void {
  rmSync(`${recording}.back`, { force: true });
  if (ownRecording) rmSync(recording, { force: true });
}

/** Stops that a breakpoint, filter or deadlock caused: what reverseContinue goes back to. */
const HIT_REASONS: ReadonlySet<StopReason> = new Set<StopReason>(
  ['breakpoint', 'function breakpoint', 'exception', 'task created', 'task switch', 'task done', 'deadlock', 'loop blocked']);

export function isHit(stop: RuntimeEvents['stopped']): boolean {
  return HIT_REASONS.has(stop.reason);
}

/**
 * A re-run on its way back: decides for each stop whether the user sees it.
 * - stepBack: the runtime holds at the target iteration (replayTo) and says so with a step stop;
 *   hits before it are passed over.
 * - reverseContinue, first pass: the same, counting the hits passed over (`hits`).
 * - reverseContinue, second pass: no target; the n-th hit is shown, earlier ones passed over.
 * A divergence is always shown: the replay is no longer the recorded run.
 */
export class WayBack {
  hits = 0;

  constructor(readonly kind: 'to iteration' | 'to hit', readonly hitWanted = 0) {}

  /** 'show' to present the stop (the way back is over), 'pass' to resume it. */
  onStop(stop: RuntimeEvents['stopped']): 'show' | 'pass' {
    if (stop.reason === 'divergence') return 'show';
    if (isHit(stop)) {
      this.hits += 1;
      return this.kind === 'to hit' && this.hits === this.hitWanted ? 'show' : 'pass';
    }
    if (stop.reason === 'step') return 'show'; // arrived: nothing steps during a re-run
    return 'pass'; // entry, pause
  }
}
