/**
 * What `longrun --help` loads: the command definitions and commander, nothing of the AWS SDK,
 * Strands, the MCP SDK, OpenTelemetry or BullMQ (each command loads those when it runs). How fast
 * that is, is measured in bench/cli, not here.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'
import { NODE } from '../helpers/child-process.ts'
import { CLI } from '../helpers/dev-stack.ts'
import { tempDir } from '../helpers/mcp-server.ts'

const run = promisify(execFile)

/** Records every module the process resolves, one URL a line, in the file LONGRUN_TEST_IMPORTS names. */
const RECORD_IMPORTS = `data:text/javascript,${encodeURIComponent(`
import { registerHooks } from 'node:module'
import { appendFileSync } from 'node:fs'
registerHooks({
  resolve(specifier, context, next) {
    const resolved = next(specifier, context)
    appendFileSync(process.env.LONGRUN_TEST_IMPORTS, resolved.url + '\\n')
    return resolved
  },
})
`)}`

/** Packages only a command's work needs. */
const HEAVY = [
  '@aws-sdk/',
  '@smithy/',
  '@strands-agents/',
  '@modelcontextprotocol/',
  '@opentelemetry/',
  'bullmq',
  'ioredis',
  'openai',
  'jose',
  'zod',
]

let dir: { path: string; remove(): Promise<void> }
before(async () => {
  dir = await tempDir('longrun-start-up-')
})
after(async () => {
  await dir.remove()
})

/** The packages from node_modules a `longrun <args>` process loaded, and what it printed. */
async function packagesLoadedBy(args: string[]): Promise<{ packages: Set<string>; stdout: string }> {
  const record = join(dir.path, `${args.join('-')}.txt`)
  const { stdout } = await run(NODE, ['--import', RECORD_IMPORTS, CLI, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LONGRUN_TEST_IMPORTS: record },
    cwd: dir.path,
  })
  const urls = (await readFile(record, 'utf8')).split('\n')
  const packages = new Set(
    urls.flatMap((url) => {
      const name = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1]
      return name === undefined ? [] : [name]
    }),
  )
  return { packages, stdout }
}

for (const args of [
  ['--help'],
  ['invoke', '--help'],
  ['chat', '--help'],
  ['console', '--help'],
  ['tasks', '--help'],
  ['memory', 'events', '--help'],
  ['dev', '--help'],
  ['local', '--help'],
  ['runtime', '--help'],
]) {
  test(`longrun ${args.join(' ')} loads commander alone, none of the SDKs a command's work needs`, async () => {
    const { packages, stdout } = await packagesLoadedBy(args)
    assert.ok(packages.has('commander'), [...packages].join(', '))
    const heavy = [...packages].filter((name) => HEAVY.some((prefix) => name.startsWith(prefix)))
    assert.deepEqual(heavy, [])
    assert.match(stdout, /^Usage: longrun /)
  })
}

test('the help of invoke, chat and console offers --bearer-token; the top help lists every command', async () => {
  for (const command of ['invoke', 'chat', 'console']) {
    const { stdout } = await run(NODE, [CLI, command, '--help'])
    assert.match(stdout, /--bearer-token <token>/, command)
  }
  const { stdout } = await run(NODE, [CLI, '--help'])
  for (const command of [
    'dev',
    'invoke',
    'chat',
    'console',
    'tasks',
    'memory',
    'local',
    'mcp-server',
    'worker',
    'runtime',
  ])
    assert.match(stdout, new RegExp(`^  ${command} `, 'm'), command)
})
