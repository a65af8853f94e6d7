/**
 * STIX 2.1 patterning (section 9), checked and read by a recursive-descent parser that
 * follows the OASIS ANTLR grammar (STIXPattern.g4) rule for rule. No maintained npm parser of
 * the grammar exists; this one is used both ways: every pattern we export is parsed before
 * it is written, and a partner's patterns are parsed on import to find the values to match.
 */

export type Literal =
  | { kind: 'string'; value: string }
  | { kind: 'int' | 'float'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'timestamp' | 'binary' | 'hex'; value: string };

export interface ObjectPath {
  objectType: string;
  /** Property names and list indexes after the type; `*` is any index. */
  steps: (string | number | '*')[];
}

export type ComparisonOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'IN' | 'LIKE' | 'MATCHES' | 'ISSUBSET' | 'ISSUPERSET';

export type ComparisonExpression =
  | { type: 'test'; path: ObjectPath; op: ComparisonOp; negated: boolean; value: Literal | Literal[] }
  | { type: 'exists'; path: ObjectPath; negated: boolean }
  | { type: 'and' | 'or'; left: ComparisonExpression; right: ComparisonExpression };

export type Qualifier = { type: 'start-stop'; start: string; stop: string } | { type: 'within'; seconds: number } | { type: 'repeats'; times: number };

export type ObservationExpression =
  | { type: 'observation'; comparison: ComparisonExpression; qualifiers: Qualifier[] }
  | { type: 'group'; expression: ObservationExpression; qualifiers: Qualifier[] }
  | { type: 'and' | 'or' | 'followedby'; left: ObservationExpression; right: ObservationExpression };

export type ParseResult = { ok: true; pattern: ObservationExpression } | { ok: false; error: string };

type TokenType =
  | 'string' | 'int_pos' | 'int_neg' | 'float_pos' | 'float_neg' | 'timestamp' | 'binary' | 'hex' | 'bool'
  | 'ident' | 'ident_hyphen' | 'keyword' | 'symbol' | 'eof';

interface Token {
  type: TokenType;
  text: string;
  at: number;
}

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'FOLLOWEDBY', 'LIKE', 'MATCHES', 'ISSUPERSET', 'ISSUBSET', 'EXISTS', 'LAST', 'IN', 'START', 'STOP', 'SECONDS', 'WITHIN', 'REPEATS', 'TIMES']);
const SYMBOLS = ['==', '!=', '<>', '<=', '>=', '=', '<', '>', ':', '.', ',', '(', ')', '[', ']', '+', '-', '^', '/', '*'];
const TIMESTAMP = /t'\d{4}-(0[1-9]|1[012])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?Z'/y;
const HEX = /h'([A-Fa-f0-9]{2})*'/y;
const BINARY = /b'([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)'/y;
const STRING = /'([^'\\]|\\'|\\\\)*'/y;
const FLOAT_POS = /\+?\d*\.\d+/y;
const FLOAT_NEG = /-\d*\.\d+/y;
const INT_POS = /\+?(0|[1-9]\d*)/y;
const INT_NEG = /-(0|[1-9]\d*)/y;
const IDENT = /[a-zA-Z_][a-zA-Z0-9_-]*/y;
// The grammar's WS rule: ASCII and Unicode spaces.
const WS = /[ \t\r\n\u000B\u000C\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|\/\*[\s\S]*?\*\/|\/\/[^\r\n]*/y;

function matchAt(re: RegExp, s: string, at: number): string | null {
  re.lastIndex = at;
  const m = re.exec(s);
  return m ? m[0] : null;
}

class ParseError extends Error {}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ws = matchAt(WS, src, i);
    if (ws) {
      i += ws.length;
      continue;
    }
    // ANTLR takes the longest match, and on a tie the rule defined first (keywords before identifiers).
    const candidates: [TokenType, string | null][] = [
      ['timestamp', matchAt(TIMESTAMP, src, i)],
      ['hex', matchAt(HEX, src, i)],
      ['binary', matchAt(BINARY, src, i)],
      ['string', matchAt(STRING, src, i)],
      ['float_neg', matchAt(FLOAT_NEG, src, i)],
      ['float_pos', matchAt(FLOAT_POS, src, i)],
      ['int_neg', matchAt(INT_NEG, src, i)],
      ['int_pos', matchAt(INT_POS, src, i)],
      ['ident', matchAt(IDENT, src, i)],
    ];
    let best: [TokenType, string] | null = null;
    for (const [type, text] of candidates) if (text !== null && (!best || text.length > best[1].length)) best = [type, text];
    const symbol = SYMBOLS.find((s) => src.startsWith(s, i));
    if (symbol && (!best || symbol.length > best[1].length)) best = ['symbol', symbol];
    if (!best) {
      if (src[i] === "'") throw new ParseError(`unterminated string or bad escape at character ${i + 1}`);
      throw new ParseError(`unexpected character ${JSON.stringify(src[i])} at character ${i + 1}`);
    }
    let [type, text] = best;
    if (type === 'ident') {
      if (KEYWORDS.has(text)) type = 'keyword';
      else if (text === 'true' || text === 'false') type = 'bool';
      else if (text.includes('-')) type = 'ident_hyphen';
    }
    out.push({ type, text, at: i });
    i += text.length;
  }
  out.push({ type: 'eof', text: '', at: src.length });
  return out;
}

function unquote(text: string): string {
  return text.slice(1, -1).replace(/\\(['\\])/g, '$1');
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i]!;
  }
  private next(): Token {
    return this.tokens[this.i++]!;
  }
  private is(text: string): boolean {
    const t = this.peek();
    return (t.type === 'symbol' || t.type === 'keyword') && t.text === text;
  }
  private accept(text: string): boolean {
    if (!this.is(text)) return false;
    this.i++;
    return true;
  }
  private expect(text: string): void {
    if (!this.accept(text)) this.fail(`expected ${text}`);
  }
  private fail(what: string): never {
    const t = this.peek();
    throw new ParseError(`${what} at character ${t.at + 1}, found ${t.type === 'eof' ? 'the end' : JSON.stringify(t.text)}`);
  }

  pattern(): ObservationExpression {
    const e = this.observationExpressions();
    if (this.peek().type !== 'eof') this.fail('expected the end of the pattern');
    return e;
  }

  private observationExpressions(): ObservationExpression {
    let left = this.observationOr();
    while (this.accept('FOLLOWEDBY')) left = { type: 'followedby', left, right: this.observationOr() };
    return left;
  }
  private observationOr(): ObservationExpression {
    let left = this.observationAnd();
    while (this.accept('OR')) left = { type: 'or', left, right: this.observationAnd() };
    return left;
  }
  private observationAnd(): ObservationExpression {
    let left = this.observation();
    while (this.accept('AND')) left = { type: 'and', left, right: this.observation() };
    return left;
  }
  private observation(): ObservationExpression {
    let e: ObservationExpression;
    if (this.accept('[')) {
      const comparison = this.comparisonOr();
      this.expect(']');
      e = { type: 'observation', comparison, qualifiers: [] };
    } else if (this.accept('(')) {
      const expression = this.observationExpressions();
      this.expect(')');
      e = { type: 'group', expression, qualifiers: [] };
    } else this.fail('expected [ or ( to start an observation expression');
    for (let q = this.qualifier(); q; q = this.qualifier()) e.qualifiers.push(q);
    return e;
  }
  private qualifier(): Qualifier | null {
    if (this.accept('START')) {
      const start = this.take('timestamp', 'a timestamp after START');
      this.expect('STOP');
      const stop = this.take('timestamp', 'a timestamp after STOP');
      return { type: 'start-stop', start: start.slice(2, -1), stop: stop.slice(2, -1) };
    }
    if (this.accept('WITHIN')) {
      const t = this.peek();
      if (t.type !== 'int_pos' && t.type !== 'float_pos') this.fail('expected a positive number after WITHIN');
      this.next();
      this.expect('SECONDS');
      return { type: 'within', seconds: Number(t.text) };
    }
    if (this.accept('REPEATS')) {
      const n = this.take('int_pos', 'a positive whole number after REPEATS');
      this.expect('TIMES');
      return { type: 'repeats', times: Number(n) };
    }
    return null;
  }
  private take(type: TokenType, what: string): string {
    if (this.peek().type !== type) this.fail(`expected ${what}`);
    return this.next().text;
  }

  private comparisonOr(): ComparisonExpression {
    let left = this.comparisonAnd();
    while (this.accept('OR')) left = { type: 'or', left, right: this.comparisonAnd() };
    return left;
  }
  private comparisonAnd(): ComparisonExpression {
    let left = this.propTest();
    while (this.accept('AND')) left = { type: 'and', left, right: this.propTest() };
    return left;
  }
  private propTest(): ComparisonExpression {
    if (this.accept('(')) {
      const e = this.comparisonOr();
      this.expect(')');
      return e;
    }
    if (this.is('NOT') && this.tokens[this.i + 1]?.text === 'EXISTS') {
      this.next();
      this.next();
      return { type: 'exists', path: this.objectPath(), negated: true };
    }
    if (this.accept('EXISTS')) return { type: 'exists', path: this.objectPath(), negated: false };
    const path = this.objectPath();
    const negated = this.accept('NOT');
    const t = this.next();
    const op = t.text === '==' ? '=' : t.text === '<>' ? '!=' : t.text;
    switch (op) {
      case '=':
      case '!=':
        return { type: 'test', path, op, negated, value: this.primitive() };
      case '<':
      case '<=':
      case '>':
      case '>=':
        return { type: 'test', path, op, negated, value: this.orderable() };
      case 'IN':
        return { type: 'test', path, op, negated, value: this.set() };
      case 'LIKE':
      case 'MATCHES':
      case 'ISSUBSET':
      case 'ISSUPERSET':
        return { type: 'test', path, op, negated, value: { kind: 'string', value: unquote(this.take('string', `a string after ${op}`)) } };
    }
    this.i--;
    return this.fail('expected a comparison operator');
  }
  private objectPath(): ObjectPath {
    const type = this.next();
    if (type.type !== 'ident' && type.type !== 'ident_hyphen') {
      this.i--;
      this.fail('expected an object type');
    }
    this.expect(':');
    const steps: ObjectPath['steps'] = [this.pathKey()];
    for (;;) {
      if (this.accept('.')) steps.push(this.pathKey());
      else if (this.is('[') && this.indexFollows()) {
        this.next();
        const t = this.next();
        steps.push(t.text === '*' ? '*' : Number(t.text));
        this.expect(']');
      } else break;
    }
    return { objectType: type.text, steps };
  }
  /** `[` then an index: a list step, not the end of the observation followed by another. */
  private indexFollows(): boolean {
    const t = this.tokens[this.i + 1];
    return t !== undefined && (t.type === 'int_pos' || t.type === 'int_neg' || (t.type === 'symbol' && t.text === '*'));
  }
  private pathKey(): string {
    const t = this.next();
    if (t.type === 'ident') return t.text;
    if (t.type === 'string') return unquote(t.text);
    this.i--;
    return this.fail('expected a property name (a name without hyphens, or quoted)');
  }
  private primitive(): Literal {
    if (this.peek().type === 'bool') return { kind: 'bool', value: this.next().text === 'true' };
    return this.orderable();
  }
  private orderable(): Literal {
    const t = this.next();
    switch (t.type) {
      case 'int_pos':
      case 'int_neg':
        return { kind: 'int', value: Number(t.text) };
      case 'float_pos':
      case 'float_neg':
        return { kind: 'float', value: Number(t.text) };
      case 'string':
        return { kind: 'string', value: unquote(t.text) };
      case 'timestamp':
        return { kind: 'timestamp', value: t.text.slice(2, -1) };
      case 'binary':
        return { kind: 'binary', value: t.text.slice(2, -1) };
      case 'hex':
        return { kind: 'hex', value: t.text.slice(2, -1) };
      default:
        this.i--;
        return this.fail('expected a literal');
    }
  }
  private set(): Literal[] {
    this.expect('(');
    const out: Literal[] = [];
    if (this.accept(')')) return out;
    do out.push(this.primitive());
    while (this.accept(','));
    this.expect(')');
    return out;
  }
}

/**
 * Parses a STIX 2.1 pattern.
 * @example parsePattern("[ipv4-addr:value = '203.0.113.7']").ok // true
 */
export function parsePattern(src: string): ParseResult {
  try {
    return { ok: true, pattern: new Parser(tokenize(src)).pattern() };
  } catch (e) {
    if (e instanceof ParseError) return { ok: false, error: e.message };
    throw e;
  }
}

/** Quotes a value as a STIX string literal (only `'` and `\` are escaped). */
export function quote(value: string): string {
  return `'${value.replace(/[\\']/g, (c) => '\\' + c)}'`;
}

/**
 * The equality tests of a pattern, as alternatives: each a set of `path = value` that must
 * hold together in one observation, keyed by the path (`ipv4-addr:value`), or by the path and
 * `ISSUBSET` for a network test. Other tests are left out (a partner's range or regex is kept
 * with the indicator, not matched).
 */
export function equalityAlternatives(p: ObservationExpression): Map<string, Literal>[] {
  switch (p.type) {
    case 'observation':
      return comparisonAlternatives(p.comparison);
    case 'group':
      return equalityAlternatives(p.expression);
    default:
      return [...equalityAlternatives(p.left), ...equalityAlternatives(p.right)];
  }
}

function comparisonAlternatives(c: ComparisonExpression): Map<string, Literal>[] {
  switch (c.type) {
    case 'test':
      if (c.negated || Array.isArray(c.value)) return [new Map()];
      if (c.op === '=') return [new Map([[pathText(c.path), c.value]])];
      if (c.op === 'ISSUBSET') return [new Map([[`${pathText(c.path)} ISSUBSET`, c.value]])];
      return [new Map()];
    case 'exists':
      return [new Map()];
    case 'or':
      return [...comparisonAlternatives(c.left), ...comparisonAlternatives(c.right)];
    case 'and': {
      const out: Map<string, Literal>[] = [];
      for (const a of comparisonAlternatives(c.left)) for (const b of comparisonAlternatives(c.right)) out.push(new Map([...a, ...b]));
      return out;
    }
  }
}

/** `type:a.b[0]` form of a path, names unquoted. */
export function pathText(p: ObjectPath): string {
  return `${p.objectType}:` + p.steps.map((s, i) => (typeof s === 'string' ? (i === 0 ? s : `.${s}`) : `[${s}]`)).join('');
}
