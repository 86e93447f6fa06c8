/**
 * The published task schema (formats/tasks/task.v1.schema.json) and the engine agree: every registered task type
 * is in it and every type in it has a handler; each type's options are its CLI command's flags in camelCase
 * (less the ones a task does not take: where the output goes, progress, threads); the schema checker names the
 * JSON path of a bad value.
 */
import t from 'tap';
import { Command } from 'commander';
import { registerCouponsCommands } from '../../src/cli/coupons.js';
import { registerNfeCommands } from '../../src/cli/nfe.js';
import { registerSpedCommands } from '../../src/cli/sped.js';
import type { CommandContext } from '../../src/cli/main.js';
import { TASK_HANDLERS } from '../../src/tasks/types.js';
import { MANIFEST_SCHEMA, TASK_SCHEMA, TASK_TYPES, optionNames, parseTask, taskKey, canonicalJson } from '../../src/tasks/task.js';
import { checkSchema } from '../../src/tasks/json-schema.js';

/** Flags a task does not take: the output is the task's `output`, there is no terminal, the pool is the runner's. */
const NOT_TASK_OPTIONS = new Set(['output', 'outDir', 'progress', 'threads', 'inPlace', 'maxDocumentBytes']);

function program(): Command {
  const ctx = { io: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }, async run() {} } as unknown as CommandContext;
  const p = new Command('fiscal');
  registerSpedCommands(p, ctx);
  registerNfeCommands(p, ctx);
  registerCouponsCommands(p, ctx);
  return p;
}

t.test('every registered type is in the schema and every schema type has a handler', async (t) => {
  t.same([...TASK_TYPES].sort(), Object.keys(TASK_HANDLERS).sort());
  t.ok(TASK_TYPES.length >= 11);
});

t.test("each type's options are its command's flags in camelCase", async (t) => {
  const commands = new Map<string, Command>();
  for (const g of program().commands) for (const c of g.commands) commands.set(`${g.name()}.${c.name()}`, c);
  for (const type of TASK_TYPES) {
    const cmd = commands.get(type);
    if (!cmd) {
      t.fail(`${type}: no CLI command ${type.replace('.', ' ')}`);
      continue;
    }
    const flags = cmd.options.filter((o) => !o.hidden).map((o) => o.attributeName()).filter((n) => !NOT_TASK_OPTIONS.has(n));
    t.same(optionNames(type).sort(), [...new Set(flags)].sort(), `${type}: the options of fiscal ${type.replace('.', ' ')}`);
  }
});

t.test('the schema checker names the JSON path and rejects unknown options and wrong types', async (t) => {
  const base = { type: 'nfe.validate', input: 'a.xml', output: 'r.txt' };
  t.same(checkSchema(base as never, TASK_SCHEMA), []);
  t.match(checkSchema({ ...base, options: { schemas: ['a', 3] } } as never, TASK_SCHEMA), [{ path: '$.options.schemas[1]', message: /expected a string/ }]);
  t.match(checkSchema({ ...base, options: { maxBytes: 0 } } as never, TASK_SCHEMA), [{ path: '$.options.maxBytes', message: /at least 1/ }]);
  t.match(checkSchema({ ...base, options: { colour: true } } as never, TASK_SCHEMA), [{ path: '$.options.colour', message: /unknown option/ }]);
  t.match(checkSchema({ ...base, type: 'sped.to-csv', options: { delimiter: '"' } } as never, TASK_SCHEMA), [{ path: '$.options.delimiter' }]);
  t.match(checkSchema({ ...base, type: 'nfe.sign', options: {} } as never, TASK_SCHEMA), [{ path: '$.options.pfx', message: /required/ }]);
  t.match(checkSchema({ ...base, type: 'nfe.sign', options: { pfx: '-' } } as never, TASK_SCHEMA), [{ path: '$.options.pfx', message: /must not be/ }]);
  t.throws(() => parseTask({ ...base, options: { json: 'yes' } }), { code: 'TASK_MALFORMED', message: /^\$\.options\.json: expected a boolean/ });
});

t.test('the key: canonical options with defaults, the input digest, the output, the engine major', async (t) => {
  const sha = 'a'.repeat(64);
  const task = parseTask({ type: 'sped.validate', input: 'x', output: 'y', options: { layout: 'ecd', json: true } });
  const same = parseTask({ type: 'sped.validate', input: 'elsewhere', output: 'y', options: { json: true, maxErrors: 1000, layout: 'ecd' } });
  t.equal(taskKey(task, sha, '/o/y').key, taskKey(same, sha, '/o/y').key, 'key order, defaults and the input name do not matter');
  t.not(taskKey(task, sha, '/o/y').key, taskKey(task, 'b'.repeat(64), '/o/y').key, 'the input bytes do');
  t.not(taskKey(task, sha, '/o/y').key, taskKey(task, sha, '/o/z').key, 'the output does');
  t.equal(canonicalJson({ b: [1, { d: 1, c: 2 }], a: 'x' }), '{"a":"x","b":[1,{"c":2,"d":1}]}');
  const withId = parseTask({ id: 'mine', type: 'sped.validate', input: 'x', output: 'y' });
  t.equal(taskKey(withId, sha, '/o/y').key, 'mine');
});

t.test('the manifest schema accepts a done and a failed manifest and refuses a failed one without error', async (t) => {
  const done = {
    status: 'done', key: 'k', reused: false, type: 'sped.stats', input: { sha256: 'a'.repeat(64), bytes: 1 },
    output: { path: 'o', sha256: 'b'.repeat(64), bytes: 2 }, counts: { lines: 1 }, findings: { errors: 0, warnings: 0 }, attempts: 1, durationMs: 3,
  };
  t.same(checkSchema(done as never, MANIFEST_SCHEMA), []);
  t.same(checkSchema({ ...done, output: { url: 'https://h/o', sha256: 'b'.repeat(64), bytes: 2 } } as never, MANIFEST_SCHEMA), []);
  t.match(checkSchema({ ...done, status: 'failed', output: null } as never, MANIFEST_SCHEMA), [{ path: '$.error', message: /required/ }]);
  t.match(checkSchema({ ...done, findings: { errors: -1, warnings: 0 } } as never, MANIFEST_SCHEMA), [{ path: '$.findings.errors' }]);
});
