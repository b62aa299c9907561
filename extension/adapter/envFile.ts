// The `envFile` launch option: environment variables from a file, read the way the Python extension
// reads its .env files, so that one file serves both debuggers. One NAME=value a line (NAME a letter
// then letters, digits or _; spaces around = and at the ends are dropped); a value in single or
// double quotes loses them and has \n turned into a newline; any other line (a # comment, a blank
// line) is skipped. ${NAME} in a value is replaced by the value of an earlier line of the file, else
// the environment's, else nothing; ${env:NAME}, as VS Code's documentation writes it, is the same;
// \${ keeps a ${ as it is, and \$ is a $. A value with any other ${...} is kept as it is.
import { readFileSync } from 'node:fs';

const LINE = /^\s*([a-zA-Z]\w*)\s*=\s*(.*?)?\s*$/;
const REFERENCE = /\$\{(?:env:)?([a-zA-Z]\w*)?([^}\w].*?)?\}/g;

/** The variables of a file's text, in order; base is the environment that ${NAME} falls back to. */
export function parseEnvFile(text: string, base: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const line of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const match = LINE.exec(line);
    if (!match) continue;
    variables[match[1]] = substitute(unquote(match[2] ?? ''), variables, base);
  }
  return variables;
}

/** The variables of the file at path; throws an Error that says, in launch.json's terms, what is wrong. */
export function readEnvFile(path: string, base: Readonly<Record<string, string | undefined>>): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${(error as Error).message})`;
    throw new Error(`The envFile "${path}" ${why}. Check "envFile" in launch.json.`);
  }
  return parseEnvFile(text, base);
}

function unquote(value: string): string {
  const quote = value[0];
  if (value.length >= 2 && (quote === '"' || quote === "'") && value[value.length - 1] === quote) {
    return value.slice(1, -1).replace(/\\n/g, '\n');
  }
  return value;
}

function substitute(value: string, earlier: Record<string, string>, base: Readonly<Record<string, string | undefined>>): string {
  let malformed = false;
  const replaced = value.replace(REFERENCE, (match: string, name: string | undefined, rest: string | undefined, offset: number) => {
    if (offset > 0 && value[offset - 1] === '\\') return match;
    if (rest || !name) {
      malformed = true;
      return match;
    }
    return earlier[name] || base[name] || '';
  });
  return (malformed ? value : replaced).replace(/\\\$/g, '$');
}
