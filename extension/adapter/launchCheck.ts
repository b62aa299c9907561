// Checks a launch configuration against the launch options' schema (generated from
// extension/launchOptions.json) and says, in launch.json's terms, what to change. checkOptions()
// does the same for any configuration schema (attachCheck.ts).
import { LAUNCH_OPTIONS_SCHEMA } from './launchOptions';
import { check, ProtocolError, Schema } from './schemaCheck';

/** A readable complaint about launch arguments, or undefined when they are usable. */
export function checkLaunchArguments(args: object): string | undefined {
  const given = args as Record<string, unknown>;
  if (given.program === undefined && given.module === undefined) {
    return 'Say what to debug: set "program" (a .py file) or "module" (as with python -m) in launch.json.';
  }
  if (given.program !== undefined && given.module !== undefined) {
    return 'Set either "program" or "module" in launch.json, not both.';
  }
  return checkOptions(given, LAUNCH_OPTIONS_SCHEMA.properties as unknown as Record<string, Schema>);
}

/** The first option of given that breaks its schema, said in launch.json's terms; undefined when all
 * are usable. An object's own options are checked one by one ("connect.port"). */
export function checkOptions(given: Record<string, unknown>, properties: Record<string, Schema>, prefix = ''): string | undefined {
  for (const [option, schema] of Object.entries(properties)) {
    const name = prefix + option;
    const value = given[option];
    if (value === undefined) continue;
    if (schema.properties && value && typeof value === 'object' && !Array.isArray(value)) {
      const missing = schema.required?.find((field) => (value as Record<string, unknown>)[field] === undefined);
      if (missing) return `"${name}" in launch.json needs "${missing}".`;
      const unknown = schema.additionalProperties === false && Object.keys(value).find((field) => !(field in schema.properties!));
      if (unknown) return `"${name}" in launch.json has no option "${unknown}"; it takes ${Object.keys(schema.properties).map((f) => `"${f}"`).join(', ')}.`;
      const inner = checkOptions(value as Record<string, unknown>, schema.properties, `${name}.`);
      if (inner) return inner;
      continue;
    }
    try {
      check(value, schema, name);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      return `"${name}" in launch.json must be ${expected(schema)}.`;
    }
    const nul = nulByteIn(value);
    if (nul !== undefined) return `"${name}${nul}" in launch.json contains a NUL character (\\0), which no process can be given.`;
  }
  return undefined;
}

/** Where a string in value holds a NUL byte ('' for value itself, '[2]', '.NAME'), else undefined. */
function nulByteIn(value: unknown): string | undefined {
  if (typeof value === 'string') return value.includes('\0') ? '' : undefined;
  if (Array.isArray(value)) {
    const index = value.findIndex((item) => nulByteIn(item) !== undefined);
    return index < 0 ? undefined : `[${index}]`;
  }
  if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('\0')) return `.${JSON.stringify(key)}`;
      if (nulByteIn(item) !== undefined) return `.${key}`;
    }
  }
  return undefined;
}

/** What a value of this schema is, as a phrase: 'a list of strings', '"frozen", "wall" or "virtual"'. */
export function expected(schema: Schema): string {
  if (schema.enum) return alternatives(schema.enum.map((v) => JSON.stringify(v)));
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  return alternatives(types.map((type) => {
    switch (type) {
      case 'string': return schema.minLength ? 'a non-empty string' : 'a string';
      case 'boolean': return 'true or false';
      case 'integer': return schema.minimum !== undefined ? `a whole number, ${schema.minimum} or more` : 'a whole number';
      case 'number': return schema.minimum !== undefined ? `a number, ${schema.minimum} or more` : 'a number';
      case 'null': return 'null';
      case 'array': return schema.items ? `a list of ${plural(expected(schema.items as Schema))}` : 'a list';
      case 'object': {
        const values = schema.additionalProperties;
        return typeof values === 'object' ? `an object mapping names to ${plural(expected(values as Schema))}` : 'an object';
      }
      default: return String(type);
    }
  }));
}

function alternatives(options: string[]): string {
  return options.length <= 1 ? options.join('') : `${options.slice(0, -1).join(', ')} or ${options[options.length - 1]}`;
}

/** 'a string' -> 'strings', 'a string or null' -> 'strings or null'. */
function plural(phrase: string): string {
  return phrase.replace(/\ban? (\w+)/g, '$1s');
}
