import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  type LongRunningMcpServer,
  type Logger,
  type LongRunningTool,
  modelTrainingTool,
  textStatisticsTool,
} from '../../src/mcp-server/index.ts'
import { startTestServer, tempDir } from '../helpers/mcp-server.ts'
import {
  CONFORMANCE_FIXTURE_NAMES,
  conformanceFixtureTools,
  ERROR_MESSAGE,
  LOG_LINES,
  SIMPLE_TEXT,
  tasksExtensionFixtureTools,
} from './conformance-fixtures.ts'

const NODE = new URL('../../node_modules/.bin/node', import.meta.url).pathname
const CONFORMANCE = new URL('../../node_modules/.bin/conformance', import.meta.url).pathname
const BASELINE = new URL('./conformance-expected-failures.yaml', import.meta.url).pathname
const BASELINE_2026 = new URL('./conformance-expected-failures.2026-07-28.yaml', import.meta.url).pathname

/** Runs the suite against `url` with `args`; answers its exit code and what it printed. */
async function runSuite(url: string, args: readonly string[]): Promise<{ code: number | null; log: string }> {
  const child = spawn(NODE, [CONFORMANCE, 'server', '--url', url, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  child.stdout.on('data', (chunk: Buffer) => {
    log += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    log += chunk.toString()
  })
  const [code] = (await once(child, 'exit')) as [number | null]
  return { code, log }
}

/** Every check of one scenario, from a run's output directory. */
async function checksIn(directory: string, scenario: string): Promise<Check[]> {
  const pattern = new RegExp(`^server-${scenario}-\\d{4}-`)
  const folder = (await readdir(directory)).find((name) => pattern.test(name))
  assert.ok(folder !== undefined, `no results for scenario ${scenario}`)
  return JSON.parse(await readFile(join(directory, folder, 'checks.json'), 'utf8')) as Check[]
}

/** A task the runner ended, from the server's own log. */
type EndedTask = { taskId: string; tool: string; status: string }

interface ConformanceFixture {
  server: LongRunningMcpServer
  output: { path: string; remove(): Promise<void> }
  readonly ended: EndedTask[]
}

/**
 * The server a run is made against (no Authorization header: the suite cannot send one, and
 * authentication has its own tests), the example tools and the suite's fixtures beside `extraTools`,
 * and the tasks its runner ended: proof the fixtures ran as long-running tasks.
 */
function conformanceServer(outputPrefix: string, extraTools: LongRunningTool[] = []): ConformanceFixture {
  // Filled in by `before`, which runs ahead of every test of the suite.
  const fixture = { ended: [] as EndedTask[] } as ConformanceFixture
  let dir: { path: string; remove(): Promise<void> }
  before(async () => {
    dir = await tempDir()
    fixture.output = await tempDir(outputPrefix)
    const logger: Logger = {
      log(_level, message, fields) {
        if (message === 'task ended') fixture.ended.push(fields as EndedTask)
      },
    }
    fixture.server = await startTestServer(dir.path, {
      auth: { kind: 'none' },
      logger,
      tools: [
        modelTrainingTool({ dataDir: dir.path, epochDelayMs: 0 }),
        textStatisticsTool(),
        ...conformanceFixtureTools(),
        ...extraTools,
      ],
    })
  })
  after(async () => {
    await fixture.server.close()
    await dir.remove()
    await fixture.output.remove()
  })
  return fixture
}

/** Each of `scenarios` passed check by check: at least one SUCCESS, nothing but SUCCESS or INFO. */
async function assertScenariosPass(directory: string, scenarios: readonly string[]): Promise<void> {
  for (const scenario of scenarios) {
    const checks = await checksIn(directory, scenario)
    assert.ok(
      checks.some((check) => check.status === 'SUCCESS'),
      `${scenario} passed no check`,
    )
    for (const check of checks)
      // INFO notes a check that does not apply (e.g. no session id: we are stateless).
      assert.ok(
        check.status === 'SUCCESS' || check.status === 'INFO',
        `${scenario}:${check.id} is ${check.status}: ${check.errorMessage ?? ''}`,
      )
  }
}

/** Scenarios that must pass check by check (the runner's exit code alone would also accept a baseline entry). */
const MUST_PASS = [
  'server-initialize',
  'logging-set-level',
  'ping',
  'tools-list',
  'tools-call-simple-text',
  'tools-call-error',
  'tools-call-with-progress',
  'tools-call-with-logging',
  'dns-rebinding-protection',
] as const

interface Check {
  readonly id: string
  readonly status: string
  readonly errorMessage?: string
  readonly details?: Record<string, unknown>
}

describe('official MCP conformance suite (2025-11-25)', () => {
  const fixture = conformanceServer('longrun-conformance-')
  const { ended } = fixture

  const checksOf = (scenario: string) => checksIn(fixture.output.path, scenario)

  test('passes every applicable scenario, progress and logging included; failures are exactly the documented baseline', async () => {
    const { server, output } = fixture
    const { code, log } = await runSuite(server.url, [
      '--requirements',
      '2025-11-25',
      '--expected-failures',
      BASELINE,
      '--output-dir',
      output.path,
    ])
    // Exit 0 means: no failure outside the baseline and no baseline entry that now passes.
    assert.equal(code, 0, `conformance run failed:\n${log.slice(-6000)}`)

    await assertScenariosPass(output.path, MUST_PASS)
    for (const scenario of MUST_PASS.filter((name) => name.startsWith('tools-call-'))) {
      const checks = await checksOf(scenario)
      assert.equal(checks.find((check) => check.id === scenario)?.status, 'SUCCESS', scenario)
      // Every message we sent in the call, notifications included, is valid against the 2025-11-25 schema.
      assert.equal(checks.find((check) => check.id === 'wire-schema-valid')?.status, 'SUCCESS', scenario)
    }

    // The notifications the suite saw are the ones our fixtures reported through ToolContext.
    const progress = (await checksOf('tools-call-with-progress')).find(
      (check) => check.id === 'tools-call-with-progress',
    )
    assert.deepEqual(
      (progress?.details?.progressNotifications as Array<Record<string, unknown>>).map((each) => [
        each.progress,
        each.total,
      ]),
      [
        [0, 100],
        [50, 100],
        [100, 100],
      ],
    )
    const logging = (await checksOf('tools-call-with-logging')).find(
      (check) => check.id === 'tools-call-with-logging',
    )
    const logs = logging?.details?.logs as Array<{ level: string; logger: string; data: { message: string } }>
    assert.deepEqual(
      logs.map((each) => [each.level, each.logger, each.data.message]),
      LOG_LINES.map((line) => ['info', 'test_tool_with_logging', line]),
    )
    const error = (await checksOf('tools-call-error')).find((check) => check.id === 'tools-call-error')
    const errorResult = error?.details?.result as { isError: boolean; content: Array<{ text: string }> }
    assert.equal(errorResult.isError, true)
    assert.match(errorResult.content[0]?.text ?? '', new RegExp(ERROR_MESSAGE))

    // Each fixture call was a durable task of our runner, recorded in the task store.
    for (const name of CONFORMANCE_FIXTURE_NAMES) {
      const runs = ended.filter((each) => each.tool === name)
      assert.equal(runs.length, 1, `${name} ran once as a task`)
    }
    const stored = async (name: string) => {
      const run = ended.find((each) => each.tool === name)
      assert.ok(run !== undefined)
      const task = await server.backend.get(run.taskId)
      assert.ok(task !== undefined, `${name}'s task is stored`)
      return task
    }
    const simple = await stored('test_simple_text')
    assert.equal(simple.status, 'completed')
    assert.deepEqual(simple.result?.content, [{ type: 'text', text: SIMPLE_TEXT }])
    const failing = await stored('test_error_handling')
    assert.equal(failing.status, 'failed')
    assert.equal(failing.statusMessage, ERROR_MESSAGE)
    const withProgress = await stored('test_tool_with_progress')
    assert.equal(withProgress.status, 'completed')
    assert.equal(withProgress.progress, 100)
    assert.equal(withProgress.total, 100)
    assert.equal((await stored('test_tool_with_logging')).status, 'completed')
  })
})

/** Scenarios of spec 2026-07-28 that must pass check by check, the tasks extension's included. */
const MUST_PASS_2026 = [
  'tools-list',
  'tools-call-simple-text',
  'tools-call-error',
  'tools-call-with-progress',
  'http-header-validation',
  'dns-rebinding-protection',
  'tasks-capability-negotiation',
  'tasks-wire-fields',
  'tasks-request-headers',
  'tasks-request-state-removal',
] as const

describe('official MCP conformance suite (2026-07-28, the tasks extension included)', () => {
  const fixture = conformanceServer('longrun-conformance-2026-', tasksExtensionFixtureTools())

  test('passes the era and the extension but for what a tools-only server cannot have, exactly the documented baseline', async () => {
    const { server, output, ended } = fixture
    const { code, log } = await runSuite(server.url, [
      '--requirements',
      '2026-07-28',
      '--expected-failures',
      BASELINE_2026,
      '--output-dir',
      output.path,
    ])
    assert.equal(code, 0, `conformance run failed:\n${log.slice(-6000)}`)
    await assertScenariosPass(output.path, MUST_PASS_2026)
    // The extension's tasks were durable tasks of the runner, in its store.
    const computed = ended.find((each) => each.tool === 'slow_compute' && each.status === 'completed')
    assert.ok(computed !== undefined, 'slow_compute ran as a task of the runner')
    assert.equal((await server.backend.get(computed.taskId))?.mode, 'spec')
  })
})
