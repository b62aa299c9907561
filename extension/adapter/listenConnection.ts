// Connecting to a program that listens for Loopscope (`python -m loopscope --listen`, or
// loopscope.listen() inside it): the adapter speaks first, with the listener's token read from the
// token file only the listener's user can read (docs/security.md), and takes the runtime's hello.
import { readFileSync, statSync } from 'node:fs';
import * as net from 'node:net';
import { encodeFrame, FrameDecoder } from './framing';
import { ATTACH_FILES, ClientHello, Hello, PROTOCOL_VERSION } from './protocol';
import { LaunchError, RuntimeConnection } from './runtimeConnection';
import { HELLO_DEADLINE_MS, MAX_HELLO_BYTES, reencode, tokensMatch } from './runtimeListener';
import { checkHello, checkingProtocol } from './schemaCheck';

export interface ListenerAddress {
  host?: string;
  port: number;
  tokenFile?: string;
}

/** The token file a listener on this machine writes for its port, for this user. */
export function listenTokenFile(port: number): string {
  const uid = process.getuid?.() ?? 0;
  return `${ATTACH_FILES.directory.replace('{uid}', String(uid))}/${ATTACH_FILES.listenTokenFile.replace('{port}', String(port))}`;
}

/** The listener's token, from a file that only this user may read (anything else is refused). */
export function readListenToken(file: string, port: number): string {
  let text: string;
  try {
    const facts = statSync(file);
    if (facts.mode & 0o077 || (process.getuid && facts.uid !== process.getuid())) {
      throw new LaunchError(`${file} can be read by other users (mode ${(facts.mode & 0o777).toString(8)}, owner ${facts.uid}): ` +
        'its token is no longer secret. Restart the listener to get a new one.');
    }
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    if (error instanceof LaunchError) throw error;
    throw new LaunchError(`No token for port ${port}: ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}). ` +
      'Is a program listening there (python -m loopscope --listen), as this user? For a program on another machine, copy its token ' +
      'file here and set "connect.tokenFile".');
  }
  if (!/^[0-9a-f]{64}$/.test(text)) throw new LaunchError(`${file} does not hold a Loopscope token.`);
  return text;
}

export async function connectToListener(address: ListenerAddress): Promise<RuntimeConnection> {
  const host = address.host ?? '127.0.0.1';
  const token = readListenToken(address.tokenFile ?? listenTokenFile(address.port), address.port);
  const where = `${host}:${address.port}`;
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const connection = net.connect({ host, port: address.port, timeout: HELLO_DEADLINE_MS });
    connection.once('connect', () => resolve(connection));
    connection.once('timeout', () => { connection.destroy(); reject(new LaunchError(`Nothing answered at ${where} within ${HELLO_DEADLINE_MS / 1000} s.`)); });
    connection.once('error', (error: NodeJS.ErrnoException) => reject(new LaunchError(error.code === 'ECONNREFUSED'
      ? `Nothing listens at ${where}. Start the program with \`python -m loopscope --listen ${where} program.py\`, or have it call loopscope.listen().`
      : `Could not connect to ${where}: ${error.message}`)));
  });
  socket.setTimeout(0);
  socket.setNoDelay(true);
  const hello: ClientHello = { type: 'hello', token, protocolVersion: PROTOCOL_VERSION };
  socket.write(encodeFrame(hello));
  const proven = await new Promise<{ hello: Hello; leftover: Buffer }>((resolve, reject) => {
    const decoder = new FrameDecoder(MAX_HELLO_BYTES);
    const fail = (message: string) => { clearTimeout(timer); socket.destroy(); reject(new LaunchError(message)); };
    const timer = setTimeout(() => fail(`The program at ${where} did not answer within ${HELLO_DEADLINE_MS / 1000} s.`), HELLO_DEADLINE_MS);
    socket.once('close', () => fail(`The program at ${where} closed the connection: it refused the token (a token is good for one ` +
      'session; the listener writes a new one after each) or is already debugged.'));
    socket.on('data', function onData(chunk: Buffer) {
      let messages: Record<string, unknown>[];
      try {
        messages = decoder.feed(chunk);
      } catch (error) {
        return fail(`The program at ${where} does not speak Loopscope's protocol: ${(error as Error).message}`);
      }
      if (messages.length === 0) return;
      const first = messages[0];
      if (first.type !== 'hello' || typeof first.token !== 'string' || !tokensMatch(first.token, token)) {
        return fail(`The program at ${where} answered without proving it holds the token.`);
      }
      if (first.protocolVersion !== PROTOCOL_VERSION) {
        return fail(`The Loopscope runtime at ${where} speaks protocol ${first.protocolVersion}, this adapter ${PROTOCOL_VERSION}.`);
      }
      if (typeof first.refusal === 'string') return fail(first.refusal);
      if (checkingProtocol) checkHello(first);
      clearTimeout(timer);
      socket.removeAllListeners('close');
      socket.off('data', onData);
      resolve({ hello: first as unknown as Hello, leftover: reencode(messages.slice(1)) });
    });
  });
  return RuntimeConnection.attached(socket, proven.hello, proven.leftover);
}
