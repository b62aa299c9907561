// subProcess: the port where the program's child Python processes connect (runtime/loopscope/
// subprocesses.py starts them under the runtime), and the hand-over of each to a child session.
//
// The port is loopback only and stays open for the session. A child proves itself with the nonce it
// was given and HMAC-SHA256(key, nonce), where the key is this session's secret (sent to the runtime
// in its start request); a nonce is accepted once. The session then asks the client for a child
// session (DAP's startDebugging) whose configuration carries a one-time adoption token of 32 random
// bytes. The child session's adapter, another process, connects to the same port with that token;
// the child's connection is then relayed byte for byte between the two, starting with the child's
// hello. A child that no session adopts in time (the client cannot start one, or it failed) is told
// to run on without Loopscope (detach), so that it is never left waiting.
import { createHmac, randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { encodeFrame } from './framing';
import { Hello } from './protocol';
import { proveHello, tokensMatch } from './runtimeListener';

/** How long a child waits for its session before it runs on without Loopscope. */
export const ADOPTION_DEADLINE_MS = 30_000;
/** The most children waiting for a session at once; a program that starts more is refused past it. */
const MAX_WAITING_CHILDREN = 64;

/** What the parent session needs to offer a child to its client. */
export interface ChildOffer {
  hello: Hello;
  /** Where and how the child session's adapter takes the child over (its attach configuration's childProcess). */
  port: number;
  token: string;
}

interface WaitingChild {
  socket: net.Socket;
  hello: Hello;
  helloFrame: Buffer;
  leftover: Buffer;
  token: string;
  timer: NodeJS.Timeout;
}

export class ChildProcessPort {
  /** The secret children's tokens are made from; the runtime gets it in its start request. */
  readonly key = randomBytes(32).toString('hex');
  private readonly usedNonces = new Set<string>();
  private readonly waiting = new Set<WaitingChild>();
  private readonly connections = new Set<net.Socket>();

  private constructor(private readonly server: net.Server, readonly port: number,
    /** offer(child): ask the client for a child session; resolves false when it cannot or will not start one. */
    private readonly offer: (child: ChildOffer) => Promise<boolean>,
    private readonly log: (message: string) => void) {
    server.on('connection', (socket) => this.onConnection(socket));
  }

  static async open(offer: (child: ChildOffer) => Promise<boolean>, log: (message: string) => void): Promise<ChildProcessPort> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => resolve());
    });
    return new ChildProcessPort(server, (server.address() as net.AddressInfo).port, offer, log);
  }

  /** The session is over: stop listening and drop every child connection (the children end with it). */
  close(): void {
    this.server.close();
    for (const child of this.waiting) clearTimeout(child.timer);
    this.waiting.clear();
    for (const socket of this.connections) socket.destroy();
    this.connections.clear();
  }

  private onConnection(socket: net.Socket): void {
    this.connections.add(socket);
    socket.once('close', () => this.connections.delete(socket));
    const refuse = (why: string) => {
      if (socket.destroyed) return;
      this.log(`Refused a connection to the port for child processes from ${socket.remoteAddress}:${socket.remotePort}: ${why}`);
      socket.destroy();
    };
    let adopter: WaitingChild | undefined;
    proveHello(socket, (first) => {
      if (first.type === 'hello') return this.judgeChild(first);
      if (first.type === 'adopt' && typeof first.token === 'string') {
        adopter = [...this.waiting].find((child) => tokensMatch(first.token as string, child.token));
        return adopter ? undefined : 'an unknown or used adoption token';
      }
      return 'not a hello';
    }, (accepted) => {
      if (adopter) this.relay(adopter, accepted.socket, accepted.leftover);
      else this.childConnected(accepted.socket, accepted.hello as unknown as Hello, accepted.leftover);
    }, refuse);
  }

  /** Why a child's hello is refused, or undefined: a fresh nonce and the right token for it. */
  private judgeChild(hello: Record<string, unknown>): string | undefined {
    const { nonce, token } = hello;
    if (typeof nonce !== 'string' || typeof token !== 'string' || nonce.length < 16) return 'no nonce or token';
    if (this.usedNonces.has(nonce)) return 'a nonce that was used before';
    if (!tokensMatch(token, createHmac('sha256', this.key).update(nonce).digest('hex'))) return 'wrong token';
    if (this.waiting.size >= MAX_WAITING_CHILDREN) return `${MAX_WAITING_CHILDREN} child processes are waiting for a session already`;
    this.usedNonces.add(nonce);
    return undefined;
  }

  private childConnected(socket: net.Socket, hello: Hello, leftover: Buffer): void {
    socket.pause(); // what the child sends waits in the socket until its session reads it
    const child: WaitingChild = {
      socket, hello, helloFrame: encodeFrame(hello), leftover, token: randomBytes(32).toString('hex'),
      timer: setTimeout(() => this.runFree(child, `no child session took it within ${ADOPTION_DEADLINE_MS / 1000} s`), ADOPTION_DEADLINE_MS),
    };
    this.waiting.add(child);
    socket.once('close', () => {
      clearTimeout(child.timer);
      this.waiting.delete(child);
    });
    this.offer({ hello, port: this.port, token: child.token }).then(
      (accepted) => { if (!accepted) this.runFree(child, 'the debugger client cannot start child sessions'); },
      (error) => this.runFree(child, `the debugger client could not start a child session: ${(error as Error).message}`));
  }

  /** Tell a child no session is coming: it runs on without Loopscope. */
  private runFree(child: WaitingChild, why: string): void {
    if (!this.waiting.delete(child)) return;
    clearTimeout(child.timer);
    this.log(`Child process ${child.hello.pid} (${child.hello.target ?? 'python'}) runs without Loopscope: ${why}.`);
    const { socket } = child;
    socket.resume();
    socket.on('data', () => undefined); // its answer is not needed
    socket.end(encodeFrame({ type: 'request', seq: 1, command: 'detach', arguments: {} }));
  }

  /** Join a child's connection to the session that adopted it, both ways, starting with the child's hello. */
  private relay(child: WaitingChild, adopter: net.Socket, leftover: Buffer): void {
    this.waiting.delete(child);
    clearTimeout(child.timer);
    const { socket } = child;
    adopter.write(Buffer.concat([child.helloFrame, child.leftover]));
    if (leftover.length) socket.write(leftover);
    socket.pipe(adopter);
    adopter.pipe(socket);
    socket.once('close', () => adopter.end());
    adopter.once('close', () => socket.end());
    socket.resume();
  }
}
