// The control channel's listening end: a port on 127.0.0.1 and a one-time token, waiting for the one
// runtime that proves itself with that token (the launched program's, or the one an attach got into
// a running program), refusing anyone else with a line in the Debug Console (docs/security.md). It
// stops listening once the runtime has connected, or when the launch or attach gives up.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { encodeFrame, FrameDecoder } from './framing';
import { Hello, PROTOCOL_VERSION } from './protocol';
import { checkHello, checkingProtocol } from './schemaCheck';

/** Frames from the runtime before it has proved itself are tiny; anything bigger is refused. */
export const MAX_HELLO_BYTES = 64 * 1024;
/** How long a connection to the control port may take to prove itself (docs/security.md). */
export const HELLO_DEADLINE_MS = 5_000;

/** The runtime's proven connection: its hello, and the frames that came in the same chunk. */
export interface ProvenRuntime { socket: net.Socket; hello: Hello; leftover: Buffer }

/** A runtime that answered with a refusal in its hello (attaching: another debugger, no asyncio...). */
export class RuntimeRefused extends Error {}

export class RuntimeListener {
  readonly token = randomBytes(32).toString('hex');
  /** Refusals are told to the connection's owner once there is one; until then they are kept. */
  private readonly refusals: string[] = [];
  private owner: EventEmitter | undefined;

  private constructor(private readonly server: net.Server, readonly port: number) {}

  static async open(): Promise<RuntimeListener> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => resolve());
    });
    return new RuntimeListener(server, (server.address() as net.AddressInfo).port);
  }

  /** The first connection that proves itself within deadlineMs; rejects with failed's reason if it
   * rejects first, and with timedOut() at the deadline. Stops listening once it has it. */
  accept(deadlineMs: number, failed: Promise<never>, timedOut: () => Error): Promise<ProvenRuntime> {
    return new Promise<ProvenRuntime>((resolve, reject) => {
      const timer = setTimeout(() => reject(timedOut()), deadlineMs);
      const settle = (outcome: () => void) => {
        clearTimeout(timer);
        this.server.off('connection', onConnection);
        outcome();
      };
      failed.catch((error) => settle(() => reject(error)));
      const onConnection = (socket: net.Socket) => {
        const decoder = new FrameDecoder(MAX_HELLO_BYTES);
        let proved = false;
        socket.on('error', () => undefined);
        // A deadline from the connection on, not an idle timeout: a byte every few seconds does not keep it open.
        const deadline = setTimeout(() => { if (!proved) this.refuse(socket, `no hello within ${HELLO_DEADLINE_MS / 1000} s`); }, HELLO_DEADLINE_MS);
        socket.once('close', () => clearTimeout(deadline));
        const onData = (chunk: Buffer) => {
          let messages: Record<string, unknown>[];
          try {
            messages = decoder.feed(chunk);
          } catch (error) {
            this.refuse(socket, (error as Error).message);
            return;
          }
          if (messages.length === 0) return;
          const hello = messages[0];
          if (hello.type !== 'hello' || typeof hello.token !== 'string' || !tokensMatch(hello.token, this.token)) {
            this.refuse(socket, 'wrong or missing token');
            return;
          }
          if (hello.protocolVersion !== PROTOCOL_VERSION) {
            this.refuse(socket, `protocol version ${hello.protocolVersion}, expected ${PROTOCOL_VERSION}`);
            settle(() => reject(new RuntimeRefused(`The Loopscope runtime speaks protocol ${hello.protocolVersion}, this adapter ${PROTOCOL_VERSION}; reinstall the extension.`)));
            return;
          }
          if (checkingProtocol) checkHello(hello);
          proved = true;
          clearTimeout(deadline);
          socket.off('data', onData);
          if (typeof hello.refusal === 'string') {
            socket.destroy();
            settle(() => reject(new RuntimeRefused(hello.refusal as string)));
            return;
          }
          // One connection only: stop listening (strangers still being refused keep their own deadlines).
          this.server.close();
          // Frames that came in the same chunk as the hello are replayed by the connection.
          settle(() => resolve({ socket, hello: hello as unknown as Hello, leftover: reencode(messages.slice(1)) }));
        };
        socket.on('data', onData);
      };
      this.server.on('connection', onConnection);
    });
  }

  /** From the next tick on (once the owner has subscribed), refusals are logged on owner. */
  tellRefusalsTo(owner: EventEmitter): void {
    setImmediate(() => {
      this.owner = owner;
      for (const message of this.refusals.splice(0)) owner.emit('log', message);
    });
  }

  close(): void {
    this.server.close();
  }

  private refuse(socket: net.Socket, why: string): void {
    if (socket.destroyed) return;
    const message = `Refused a connection to the control channel from ${socket.remoteAddress}:${socket.remotePort}: ${why}`;
    if (this.owner) this.owner.emit('log', message);
    else this.refusals.push(message);
    socket.destroy();
  }
}

export function tokensMatch(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

export function reencode(messages: Record<string, unknown>[]): Buffer {
  return Buffer.concat(messages.map((m) => encodeFrame(m)));
}
