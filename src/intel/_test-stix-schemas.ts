/**
 * Test helper: the OASIS STIX 2.1 JSON schemas, loaded into Ajv. They are not part of the
 * repository: they sit in `vendor/stix2-json-schemas` of the `shared` folder beside the clone
 * (CI lays it there), or where DISTILLWATCH_STIX_SCHEMAS points. A test that cannot find them
 * fails at once, saying where it looked: a bundle checked against nothing proves nothing.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';

// A CommonJS plugin whose default export NodeNext types as the module: require gives the function.
const addFormats = createRequire(import.meta.url)('ajv-formats') as (ajv: Ajv2020) => Ajv2020;

/** The vendored OASIS folder (schemas/, pattern_grammar/, examples/). */
export function stixVendorDir(): string {
  const repo = resolve(fileURLToPath(new URL('../../', import.meta.url)));
  const dir = process.env['DISTILLWATCH_STIX_SCHEMAS'] ?? join(repo, '..', 'shared', 'vendor', 'stix2-json-schemas');
  if (!existsSync(join(dir, 'schemas', 'common', 'bundle.json'))) {
    throw new Error(`OASIS STIX 2.1 schemas not found in "${dir}": put the shared folder beside the clone or set DISTILLWATCH_STIX_SCHEMAS to the stix2-json-schemas folder`);
  }
  return dir;
}

export interface StixValidator {
  /** Errors of one object against the schema of its type (and of the bundle for a bundle), empty when valid. */
  errors(object: { type: string; [k: string]: unknown }): string[];
}

let cached: StixValidator | null = null;

export function stixValidator(): StixValidator {
  if (cached) return cached;
  const dir = join(stixVendorDir(), 'schemas');
  // The OASIS patterns escape characters (`\-`) that a Unicode-mode RegExp refuses; `strict`
  // off because the schemas carry annotations Ajv does not know.
  const ajv = new Ajv2020({ strict: false, allErrors: true, unicodeRegExp: false });
  addFormats(ajv);
  const byType = new Map<string, string>();
  for (const sub of readdirSync(dir)) {
    for (const f of readdirSync(join(dir, sub))) {
      if (!f.endsWith('.json')) continue;
      const schema = JSON.parse(readFileSync(join(dir, sub, f), 'utf8')) as { $id: string };
      ajv.addSchema(schema);
      byType.set(f.replace(/\.json$/, ''), schema.$id);
    }
  }
  const compiled = new Map<string, ValidateFunction>();
  const show = (e: ErrorObject): string => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`;
  cached = {
    errors(object) {
      const id = byType.get(object.type);
      if (!id) return [`no OASIS schema for type "${object.type}"`];
      let v = compiled.get(id);
      if (!v) {
        v = ajv.getSchema(id);
        if (!v) return [`the OASIS schema ${id} did not compile`];
        compiled.set(id, v);
      }
      return v(object) ? [] : (v.errors ?? []).map(show);
    },
  };
  return cached;
}
