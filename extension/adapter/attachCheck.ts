// Checks an attach configuration (extension/attachOptions.json's schema) and says, in launch.json's
// terms, what to change: one of "processId" and "connect", a process id that is a number.
import { ATTACH_OPTIONS_SCHEMA } from './attachOptions';
import { checkOptions } from './launchCheck';
import { Schema } from './schemaCheck';

/** A readable complaint about attach arguments, or undefined when they are usable. */
export function checkAttachArguments(args: object): string | undefined {
  const given = args as Record<string, unknown>;
  if (given.processId === undefined && given.connect === undefined) {
    return 'Say what to attach to: set "processId" (a process id, or "${command:pickProcess}" to pick one) or "connect" ' +
      '(the host and port of a program started with `python -m loopscope --listen`) in launch.json.';
  }
  if (given.processId !== undefined && given.connect !== undefined) {
    return 'Set either "processId" or "connect" in launch.json, not both.';
  }
  const problem = checkOptions(given, ATTACH_OPTIONS_SCHEMA.properties as unknown as Record<string, Schema>);
  if (problem) return problem;
  if (given.processId !== undefined && processIdOf(given.processId) === undefined) {
    return /\$\{command:/.test(String(given.processId))
      ? `"processId" is ${JSON.stringify(given.processId)}: this client does not pick processes. Give the process id as a number.`
      : `"processId" in launch.json must be a process id (a whole number above 0), not ${JSON.stringify(given.processId)}.`;
  }
  const port = (given.connect as { port?: number } | undefined)?.port;
  if (port !== undefined && (port < 1 || port > 65535)) return `"connect.port" in launch.json must be a port number, 1 to 65535, not ${port}.`;
  return undefined;
}

/** The process id an attach configuration names (VS Code's process picker gives it as a string). */
export function processIdOf(value: unknown): number | undefined {
  const pid = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  return typeof pid === 'number' && Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}
