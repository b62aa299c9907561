// Checks messages against runtime/loopscope/protocol.json, the protocol's one declaration, when
// LOOPSCOPE_CHECK_PROTOCOL=1 (the test suites set it). The Python twin is loopscope/schema.py.
import protocol from '../../runtime/loopscope/protocol.json';

export type Schema = {
  $ref?: string;
  type?: string | readonly string[];
  enum?: readonly unknown[];
  properties?: Record<string, Schema>;
  required?: readonly string[];
  items?: Schema;
  additionalProperties?: boolean | Schema;
  minimum?: number;
  minLength?: number;
};

const definitions = protocol.definitions as unknown as Record<string, Schema>;

export class ProtocolError extends Error {}

export const checkingProtocol = process.env.LOOPSCOPE_CHECK_PROTOCOL === '1';

const typeChecks: Record<string, (v: unknown) => boolean> = {
  object: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  array: Array.isArray,
  string: (v) => typeof v === 'string',
  boolean: (v) => typeof v === 'boolean',
  integer: (v) => Number.isInteger(v),
  number: (v) => typeof v === 'number',
  null: (v) => v === null,
};

/** Throws ProtocolError naming the first place where value breaks schema; $refs name entries of
 * `refs` (protocol.json's definitions unless told otherwise, e.g. DAP's in dapSchema.ts). */
export function check(value: unknown, schema: Schema, where = 'message', refs: Readonly<Record<string, Schema>> = definitions): void {
  if (schema.$ref) schema = refs[schema.$ref];
  if (schema.type !== undefined) {
    const types: readonly string[] = typeof schema.type === 'string' ? [schema.type] : schema.type;
    if (!types.some((t) => typeChecks[t](value))) {
      throw new ProtocolError(`${where}: expected ${types.join(' or ')}, got ${JSON.stringify(value)?.slice(0, 80)}`);
    }
  }
  if (schema.enum && !schema.enum.includes(value)) {
    throw new ProtocolError(`${where}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  }
  if (schema.minimum !== undefined && typeof value === 'number' && value < schema.minimum) {
    throw new ProtocolError(`${where}: ${value} is below the minimum ${schema.minimum}`);
  }
  if (schema.minLength !== undefined && typeof value === 'string' && value.length < schema.minLength) {
    throw new ProtocolError(`${where}: shorter than ${schema.minLength} characters`);
  }
  if (typeChecks.object(value)) {
    const object = value as Record<string, unknown>;
    for (const name of schema.required ?? []) {
      if (!(name in object)) throw new ProtocolError(`${where}: missing ${JSON.stringify(name)}`);
    }
    for (const [name, item] of Object.entries(object)) {
      const property = schema.properties?.[name];
      if (property) check(item, property, `${where}.${name}`, refs);
      else if (schema.additionalProperties === false) throw new ProtocolError(`${where}: unexpected field ${JSON.stringify(name)}`);
      else if (typeof schema.additionalProperties === 'object') check(item, schema.additionalProperties, `${where}.${name}`, refs);
    }
  }
  if (Array.isArray(value) && schema.items) value.forEach((item, i) => check(item, schema.items!, `${where}[${i}]`, refs));
}

const requests = protocol.requests as unknown as Record<string, { arguments: Schema; body: Schema }>;
const events = protocol.events as unknown as Record<string, Schema>;

export function checkRequest(command: string, args: unknown): void {
  if (!requests[command]) throw new ProtocolError(`unknown request ${JSON.stringify(command)}`);
  check(args, requests[command].arguments, `${command}.arguments`);
}

export function checkResponse(command: string, body: unknown): void {
  check(body, requests[command].body, `${command}.body`);
}

export function checkEvent(event: string, body: unknown): void {
  if (!events[event]) throw new ProtocolError(`unknown event ${JSON.stringify(event)}`);
  check(body, events[event], event);
}

export function checkHello(message: unknown): void {
  check(message, protocol.hello as unknown as Schema, 'hello');
}
