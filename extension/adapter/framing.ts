// Length-prefixed JSON frames, the wire format of the runtime<->adapter channel: a 4-byte
// big-endian length, then that many bytes of UTF-8 JSON holding one object. The Python twin is
// runtime/loopscope/channel.py; docs/protocol.md describes both.

export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export class FrameError extends Error {
  /** The frame's bytes when the frame itself was bad but the stream is still in step (feedTolerant);
   * undefined when the framing is broken and nothing after it can be read. */
  payload?: Buffer;
}

export function encodeFrame(message: object): Buffer {
  const payload = Buffer.from(JSON.stringify(message), 'utf8');
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length, 0);
  return Buffer.concat([header, payload]);
}

/** Splits a byte stream into JSON objects. Chunks are kept as they come and joined once per frame,
 * so a large frame costs its size, not its size times its number of chunks. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private broken: FrameError | undefined;

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  /** The messages in the stream so far; throws FrameError on anything malformed. */
  feed(chunk: Buffer): Record<string, unknown>[] {
    const messages: Record<string, unknown>[] = [];
    for (const item of this.feedTolerant(chunk)) {
      if (item instanceof FrameError) throw item;
      messages.push(item);
    }
    return messages;
  }

  /** The messages so far, with a FrameError in place of each frame that is not a JSON object (the
   * stream stays in step: its `payload` is set), and one last FrameError if the framing is broken
   * (a length over the limit), after which nothing more is read. */
  feedTolerant(chunk: Buffer): (Record<string, unknown> | FrameError)[] {
    if (this.broken) return [this.broken];
    if (chunk.length) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const items: (Record<string, unknown> | FrameError)[] = [];
    while (this.buffered >= 4) {
      const length = this.head(4).readUInt32BE(0);
      if (length > this.maxFrameBytes) {
        this.broken = new FrameError(`frame of ${length} bytes is over the ${this.maxFrameBytes} byte limit`);
        this.chunks = [];
        this.buffered = 0;
        items.push(this.broken);
        break;
      }
      if (this.buffered < 4 + length) break;
      const all = this.head(this.buffered);
      const payload = all.subarray(4, 4 + length);
      const rest = all.subarray(4 + length);
      this.chunks = rest.length ? [rest] : [];
      this.buffered = rest.length;
      items.push(decodePayload(payload));
    }
    return items;
  }

  /** The first n buffered bytes as one Buffer (joining the chunks that hold them into one). */
  private head(n: number): Buffer {
    if (this.chunks[0].length < n) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0];
  }
}

function decodePayload(payload: Buffer): Record<string, unknown> | FrameError {
  let message: unknown;
  let problem: string;
  try {
    message = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
    if (typeof message === 'object' && message !== null && !Array.isArray(message)) return message as Record<string, unknown>;
    problem = 'frame is not a JSON object';
  } catch (error) {
    problem = `frame is not UTF-8 JSON: ${(error as Error).message}`;
  }
  const error = new FrameError(problem);
  error.payload = payload;
  return error;
}
