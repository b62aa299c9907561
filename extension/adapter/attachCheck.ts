// Checks an attach configuration (extension/attachOptions.json's schema) and says, in launch.json's
// terms, what to change. It has three forms: "processId" (attach to a running program), "connect" (a
// program that listens for Loopscope) and "childProcess" (the session of a child process of a
// launched program, made by Loopscope, which also carries the parent's launch options); exactly one.
import { ATTACH_OPTIONS_SCHEMA } from './attachOptions';
import { checkLaunchArguments, checkOptions } from './launchCheck';
import { Schema } from './schemaCheck';

/** A readable complaint about attach arguments, or undefined when they are usable. */
export function checkAttachArguments(args: object): string | undefined {
  const given = args as Record<string, unknown>;
  if (given.childProcess !== undefined && (given.processId !== undefined || given.connect !== undefined)) {
    return '"childProcess" is set by Loopscope for the session of a child process; it does not go with ' +
      `${given.processId !== undefined ? '"processId"' : '"connect"'}. Remove one of them from launch.json.`;
  }
  if (given.childProcess !== undefined) {
    const problem = checkOptions(given, { childProcess: ATTACH_OPTIONS_SCHEMA.properties.childProcess as unknown as Schema });
    // The parent's launch options it carries are checked as a launch's (no program: the child has its own).
    return problem ?? checkLaunchArguments({ ...given, program: 'child', module: undefined });
  }
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
