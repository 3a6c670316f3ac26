/** Turning recorded values into readable TypeScript expressions. */

/** A value the scenario reads from an earlier response, by the variable that holds it. */
export interface Var {
  name: string;
  /** The recorded value, as text. */
  value: string;
  /** True when the variable holds a number (a JSON number). */
  numeric: boolean;
}

/** A single-quoted TypeScript string literal. */
export function lit(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}'`;
}

const WORD = /[A-Za-z0-9]/;

/** Where `value` occurs in `s` as a whole token (no letter or digit right before or after). */
export function occurrences(s: string, value: string): number[] {
  const at: number[] = [];
  if (value === '') return at;
  for (let k = s.indexOf(value); k !== -1; k = s.indexOf(value, k + value.length)) {
    const before = k > 0 ? s[k - 1] : '';
    const after = s[k + value.length] ?? '';
    if (!WORD.test(before) && !WORD.test(after)) at.push(k);
  }
  return at;
}

/** `s` as an expression: a plain literal, or a template with `${name}` where a variable's value was. */
export function templ(s: string, vars: readonly Var[]): string {
  const spans: { start: number; end: number; name: string }[] = [];
  for (const v of [...vars].sort((a, b) => b.value.length - a.value.length)) {
    for (const k of occurrences(s, v.value)) {
      if (spans.some((x) => k < x.end && k + v.value.length > x.start)) continue;
      spans.push({ start: k, end: k + v.value.length, name: v.name });
    }
  }
  if (spans.length === 0) return lit(s);
  spans.sort((a, b) => a.start - b.start);
  if (spans.length === 1 && spans[0].start === 0 && spans[0].end === s.length) {
    const v = vars.find((x) => x.name === spans[0].name)!;
    return v.numeric ? `String(${v.name})` : v.name;
  }
  const esc = (t: string) => t.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
  let out = '`';
  let at = 0;
  for (const x of spans) {
    out += `${esc(s.slice(at, x.start))}\${${x.name}}`;
    at = x.end;
  }
  return `${out}${esc(s.slice(at))}\``;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function key(k: string): string {
  return IDENT.test(k) ? k : lit(k);
}

/** A JSON value as a TypeScript literal; strings and numbers equal to a variable's value use it. */
export function jsonLiteral(v: unknown, vars: readonly Var[], indent = ''): string {
  if (typeof v === 'string') return templ(v, vars);
  if (typeof v === 'number') {
    const same = vars.find((x) => x.value === String(v));
    return same ? (same.numeric ? same.name : `Number(${same.name})`) : String(v);
  }
  if (v === null || typeof v === 'boolean') return String(v);
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    const items = v.map((x) => jsonLiteral(x, vars, inner));
    const one = `[${items.join(', ')}]`;
    return one.length <= 80 && !one.includes('\n') ? one : `[\n${items.map((x) => `${inner}${x},`).join('\n')}\n${indent}]`;
  }
  const entries = Object.entries(v as Record<string, unknown>).map(([k, x]) => `${key(k)}: ${jsonLiteral(x, vars, inner)}`);
  if (entries.length === 0) return '{}';
  const one = `{ ${entries.join(', ')} }`;
  return one.length <= 80 && !one.includes('\n') ? one : `{\n${entries.map((x) => `${inner}${x},`).join('\n')}\n${indent}}`;
}

/** An accessor for a JSON path: `.order.id`, `.items[0]`, `['x-token']`. */
export function accessor(path: readonly (string | number)[]): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : IDENT.test(p) ? `.${p}` : `[${lit(p)}]`)).join('');
}

/** A camelCase identifier from words (`order`, `id` → orderId), never a reserved word. */
export function identifier(words: readonly string[]): string {
  const parts = words.flatMap((w) => w.split(/[^A-Za-z0-9]+/)).filter(Boolean);
  let name = parts.map((p, i) => (i === 0 ? p.charAt(0).toLowerCase() + p.slice(1) : p.charAt(0).toUpperCase() + p.slice(1))).join('');
  if (!/^[A-Za-z_]/.test(name)) name = `v${name}`;
  return RESERVED.has(name) || name === 'u' ? `${name}Value` : name;
}

const RESERVED = new Set(['break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do', 'else', 'enum', 'export', 'extends', 'false', 'finally', 'for', 'function', 'if', 'import', 'in', 'instanceof', 'new', 'null', 'return', 'super', 'switch', 'this', 'throw', 'true', 'try', 'typeof', 'var', 'void', 'while', 'with', 'let', 'static', 'yield', 'await', 'String', 'Number']);
