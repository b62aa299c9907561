// The runtime's start request made from a launch or attach configuration: every setting the start
// request declares (protocol.json's START_DEFAULTS) is taken from the configuration by name, so an
// option declared for launch.json cannot be forgotten on the way to the runtime.
import { RuntimeRequests, START_DEFAULTS } from './protocol';

export type StartArguments = RuntimeRequests['start']['arguments'];

/** The settings the configuration gives; one it leaves out takes the runtime's default, as launch.json's does. */
export function startArguments(configuration: Record<string, unknown>): StartArguments {
  const given = Object.keys(START_DEFAULTS).filter((name) => configuration[name] !== undefined);
  return Object.fromEntries(given.map((name) => [name, configuration[name]])) as StartArguments;
}
