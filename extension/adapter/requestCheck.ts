// Checks each DAP request a client sends before the session acts on it: standard requests against
// DAP's own schema (dapSchema.ts, generated from @vscode/debugprotocol), Loopscope's custom ones
// against protocol.json's dapRequests. A request that fails is answered with an error that says
// what is wrong with it; none reaches a handler.
import protocol from '../../runtime/loopscope/protocol.json';
import { DAP_ALL_REQUESTS, DAP_DEFINITIONS, DAP_REQUESTS } from './dapSchema';
import { check, ProtocolError, Schema } from './schemaCheck';

const customRequests = protocol.dapRequests as unknown as Record<string, { arguments: Schema }>;
const standardRequests = new Set(DAP_ALL_REQUESTS);

export type RequestVerdict =
  | { kind: 'ok' }
  /** Malformed: the message says what is wrong. */
  | { kind: 'invalid'; message: string }
  /** A standard DAP request Loopscope does not offer (its capability is not advertised). */
  | { kind: 'unsupported'; message: string };

/** What to do with a request: handle it, or refuse it with the message. */
export function checkDapRequest(request: { command?: unknown; arguments?: unknown }): RequestVerdict {
  const { command, arguments: args } = request;
  if (typeof command !== 'string' || command === '') return { kind: 'invalid', message: 'A request needs a "command" string.' };
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) {
    return { kind: 'invalid', message: `Invalid "${command}" request: its arguments must be an object, not ${JSON.stringify(args)?.slice(0, 40)}.` };
  }
  const dap = DAP_REQUESTS[command];
  const custom = customRequests[command];
  if (!dap && !custom) {
    return standardRequests.has(command)
      ? { kind: 'unsupported', message: `Loopscope does not support the "${command}" request.` }
      : { kind: 'ok' }; // unknown names are the custom request handler's to refuse
  }
  if (dap && args === undefined && dap.argumentsRequired) {
    const schema = dap.arguments.$ref ? DAP_DEFINITIONS[dap.arguments.$ref] : dap.arguments;
    const needed = schema.required?.length ? ` (${schema.required.join(', ')})` : '';
    return { kind: 'invalid', message: `Invalid "${command}" request: it needs arguments${needed}.` };
  }
  try {
    if (dap) check(args ?? {}, dap.arguments, 'arguments', DAP_DEFINITIONS);
    else check(args ?? {}, custom.arguments, 'arguments');
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    return { kind: 'invalid', message: `Invalid "${command}" request: ${error.message}.` };
  }
  return { kind: 'ok' };
}
