// Length-prefixed JSON frames, the wire format of the runtime<->adapter channel: a 4-byte
// big-endian length, then that many bytes of UTF-8 JSON holding one object. The Python twin is
// runtime/loopscope/channel.py; docs/protocol.md describes both.

export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export class FrameError extends Error {}

export function encodeFrame(message: object): Buffer {
  const payload = Buffer.from(JSON.stringify(message), 'utf8');
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length, 0);
  return Buffer.concat([header, payload]);
}

/** Splits a byte stream into JSON objects; throws FrameError on anything malformed. */
export class FrameDecoder {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  feed(chunk: Buffer): Record<string, unknown>[] {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const messages: Record<string, unknown>[] = [];
    while (this.buffer.length >= 4) {
      const length = this.buffer.readUInt32BE(0);
      if (length > this.maxFrameBytes) {
        throw new FrameError(`frame of ${length} bytes is over the ${this.maxFrameBytes} byte limit`);
      }
      if (this.buffer.length < 4 + length) break;
      const payload = this.buffer.subarray(4, 4 + length);
      this.buffer = this.buffer.subarray(4 + length);
      let message: unknown;
      try {
        message = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
      } catch (error) {
        throw new FrameError(`frame is not UTF-8 JSON: ${(error as Error).message}`);
      }
      if (typeof message !== 'object' || message === null || Array.isArray(message)) {
        throw new FrameError('frame is not a JSON object');
      }
      messages.push(message as Record<string, unknown>);
    }
    return messages;
  }
}
