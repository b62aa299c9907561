// The one-time listener a launch opens for its runtime: loopback only, a port the OS picks, a token
// of 32 random bytes, and the first connection that proves the token is the runtime's. Every other
// connection (a wrong token, an oversized or malformed first frame, no hello within 5 s) is refused
// and logged (docs/security.md). After the first good hello nothing listens any more.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import * as net from 'node:net';
import { encodeFrame, FrameDecoder } from './framing';
import { Hello, PROTOCOL_VERSION } from './protocol';
import { checkHello, checkingProtocol } from './schemaCheck';

/** Frames from a peer before it has proved itself are tiny; anything bigger is refused. */
export const MAX_HELLO_BYTES = 64 * 1024;
/** How long a connection to a control port may take to prove itself (docs/security.md). */
export const HELLO_DEADLINE_MS = 5_000;

export interface AcceptedRuntime {
  socket: net.Socket;
  hello: Hello;
  /** Bytes that came after the hello in the same chunk, for the connection to read first. */
  leftover: Buffer;
}

/** The protocol version of a hello that is not this adapter's (the runtime is another version). */
export class ProtocolMismatch extends Error {}

export class RuntimeListener {
  readonly token = randomBytes(32).toString('hex');
  private readonly refusals: string[] = [];
  private log: ((message: string) => void) | undefined;

  private constructor(private readonly server: net.Server, readonly port: number) {}

  static async open(): Promise<RuntimeListener> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => resolve());
    });
    return new RuntimeListener(server, (server.address() as net.AddressInfo).port);
  }

  /** The first connection that proves the token. Rejects with ProtocolMismatch for a runtime of
   * another protocol version; never resolves otherwise (the caller races it with its deadlines). */
  accept(): Promise<AcceptedRuntime> {
    return new Promise((resolve, reject) => {
      this.server.on('connection', (socket) => {
        proveHello(socket, (hello) => {
          if (hello.type !== 'hello' || typeof hello.token !== 'string' || !tokensMatch(hello.token, this.token)) {
            return 'wrong or missing token';
          }
          if (hello.protocolVersion !== PROTOCOL_VERSION) {
            reject(new ProtocolMismatch(`The Loopscope runtime speaks protocol ${hello.protocolVersion}, this adapter ${PROTOCOL_VERSION}; reinstall the extension.`));
            return `protocol version ${hello.protocolVersion}, expected ${PROTOCOL_VERSION}`;
          }
          if (checkingProtocol) checkHello(hello);
          return undefined;
        }, (accepted) => resolve({ ...accepted, hello: accepted.hello as unknown as Hello }),
        (why) => this.refuse(socket, why));
      });
    });
  }

  /** Refusals are told to `log` from now on; those made before it was given are told at once. */
  tellRefusalsTo(log: (message: string) => void): void {
    this.log = log;
    for (const message of this.refusals.splice(0)) log(message);
  }

  /** Stop listening: later connections are refused by the kernel (strangers being refused keep their deadlines). */
  close(): void {
    this.server.close();
  }

  private refuse(socket: net.Socket, why: string): void {
    if (socket.destroyed) return;
    const message = `Refused a connection to the control channel from ${socket.remoteAddress}:${socket.remotePort}: ${why}`;
    if (this.log) this.log(message);
    else this.refusals.push(message);
    socket.destroy();
  }
}

/**
 * Read a connection's first frame within HELLO_DEADLINE_MS (a deadline from the connection on, not an
 * idle timeout: a byte every few seconds does not keep it open) and at most MAX_HELLO_BYTES. judge(first)
 * returns why it is refused, or undefined to accept it: then the socket stops being read here and
 * accepted() gets it with the frames that came in the same chunk.
 */
export function proveHello(socket: net.Socket, judge: (first: Record<string, unknown>) => string | undefined,
  accepted: (runtime: { socket: net.Socket; hello: Record<string, unknown>; leftover: Buffer }) => void,
  refuse: (why: string) => void): void {
  const decoder = new FrameDecoder(MAX_HELLO_BYTES);
  let proved = false;
  socket.on('error', () => undefined);
  const deadline = setTimeout(() => { if (!proved) refuse(`no hello within ${HELLO_DEADLINE_MS / 1000} s`); }, HELLO_DEADLINE_MS);
  socket.once('close', () => clearTimeout(deadline));
  const onData = (chunk: Buffer) => {
    let messages: Record<string, unknown>[];
    try {
      messages = decoder.feed(chunk);
    } catch (error) {
      refuse((error as Error).message);
      return;
    }
    if (messages.length === 0) return;
    const why = judge(messages[0]);
    if (why !== undefined) {
      refuse(why);
      return;
    }
    proved = true;
    clearTimeout(deadline);
    socket.off('data', onData);
    accepted({ socket, hello: messages[0], leftover: reencode(messages.slice(1)) });
  };
  socket.on('data', onData);
}

export function tokensMatch(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

function reencode(messages: Record<string, unknown>[]): Buffer {
  return Buffer.concat(messages.map((m) => encodeFrame(m)));
}
