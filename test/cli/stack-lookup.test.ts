/**
 * How the client commands find the local stack: its file is looked for from the working directory
 * upwards, so they work from any subdirectory of the project; a stack that is down (its file is
 * there, its process gone or its service silent) is told apart from one that cannot be found; and
 * an MCP token that is not the stack's is said in one line naming MCP_BEARER_TOKEN.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, before, describe, test } from 'node:test'
import { NODE } from '../helpers/child-process.ts'
import { CLI, type CliOutcome, runCli } from '../helpers/dev-stack.ts'
import { tempDir, unreachableMcpUrl, waitFor } from '../helpers/mcp-server.ts'

/** The environment of a user with nothing set: the default data directory, no URLs, no tokens. */
function bareEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...extra }
}

function longrun(cwd: string, args: string[], extra: Record<string, string> = {}): Promise<CliOutcome> {
  return runCli(args, { cwd, env: bareEnv(extra) })
}

/** The stack file of a stack that is not running: `pid` and the local service's URL as given. */
async function writeStackFile(dataDir: string, pid: number, endpoint: string): Promise<void> {
  await mkdir(dataDir, { recursive: true })
  const stack = {
    agentCoreEndpoint: endpoint,
    mcpUrl: `${endpoint}/mcp`,
    mcpBearerToken: 'not-running',
    memoryId: 'longrun_dev-AbCdEf1234',
    runtimeArn: 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/longrun_dev-0000000000',
    runtimeUrl: endpoint,
    pid,
  }
  await writeFile(join(dataDir, 'dev-stack.json'), JSON.stringify(stack))
}

describe('a project whose stack runs: the commands from a subdirectory', () => {
  let project: { path: string; remove(): Promise<void> }
  let dev: ChildProcess
  let mcpUrl: string
  let subdirectory: string

  before(async () => {
    project = await tempDir('longrun-project-')
    subdirectory = join(project.path, 'notebooks', 'week-1')
    await mkdir(subdirectory, { recursive: true })
    // As `npm start` in the project: the default data directory, `.longrun`, in the project.
    dev = spawn(
      NODE,
      [CLI, 'dev', '--port', '0', '--mcp-port', '0', '--runtime-port', '0', '--console-port', '0'],
      {
        cwd: project.path,
        env: bareEnv({ MCP_TRAINING_EPOCH_DELAY_MS: '20' }),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stderr = ''
    dev.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    mcpUrl = await new Promise<string>((resolve, reject) => {
      let url: string | undefined
      createInterface({ input: dev.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        url ??= /MCP server listening on (\S+)/.exec(line)?.[1]
        if (line.includes('Ctrl-C') && url !== undefined) resolve(url)
      })
      dev.once('exit', (code) => reject(new Error(`longrun dev exited early with ${code}: ${stderr}`)))
    })
  })
  after(async () => {
    if (dev.exitCode === null && dev.signalCode === null) {
      const exited = once(dev, 'exit')
      dev.kill('SIGINT')
      await exited
    }
    await project.remove()
  })

  test('invoke, tasks and memory find the stack in a directory above, and invoke continues its session', async () => {
    const started = await longrun(subdirectory, ['invoke', 'train a model called deep-v1 for 3 epochs'])
    assert.equal(started.code, 0, started.stderr)
    const taskId = /^task:\s+(\S+) \(start_model_training\)$/m.exec(started.stderr)?.[1]
    assert.ok(taskId, started.stderr)
    const session = /^session: (\S+)$/m.exec(started.stderr)?.[1] as string
    // The session is remembered in the project's data directory, not in a new one here.
    const remembered = await readFile(join(project.path, '.longrun', 'cli-sessions.json'), 'utf8')
    assert.ok(remembered.includes(session), remembered)
    await assert.rejects(readFile(join(subdirectory, '.longrun', 'cli-sessions.json')), { code: 'ENOENT' })

    await waitFor(
      async () => (await longrun(subdirectory, ['tasks'])).stdout.includes('delivered'),
      30_000,
      'the task to be listed as delivered',
    )
    const timeline = await longrun(subdirectory, ['memory', 'events', '--session', session])
    assert.match(timeline.stdout, new RegExp(`task result\\s+Long-running task ${taskId} `))
    const again = await longrun(subdirectory, ['invoke', 'what happened to my training?'])
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stderr, new RegExp(`^session: ${session}$`, 'm'))
  })

  test("MCP_BEARER_TOKEN that is not the stack's token is MCP_TOKEN_MISMATCH, said in one line", async () => {
    const outcome = await longrun(subdirectory, ['tasks'], { MCP_BEARER_TOKEN: 'not-the-stack-token' })
    assert.equal(outcome.code, 1)
    assert.match(outcome.stderr, /^longrun: MCP_TOKEN_MISMATCH: .*MCP_BEARER_TOKEN/)
    assert.equal(outcome.stderr.trim().split('\n').length, 1, outcome.stderr)
  })

  test('an MCP server that refuses the token (401) is MCP_TOKEN_REFUSED, said in one line', async () => {
    // No stack to compare with: the server's own answer is all there is.
    const elsewhere = await tempDir('longrun-elsewhere-')
    try {
      const outcome = await longrun(elsewhere.path, ['tasks', '--mcp-url', mcpUrl], {
        MCP_BEARER_TOKEN: 'not-the-stack-token',
        MEMORY_ID: 'longrun_dev-AbCdEf1234',
      })
      assert.equal(outcome.code, 1)
      assert.match(outcome.stderr, /^longrun: MCP_TOKEN_REFUSED: .*MCP_BEARER_TOKEN/)
      assert.equal(outcome.stderr.trim().split('\n').length, 1, outcome.stderr)
    } finally {
      await elsewhere.remove()
    }
  })
})

describe('no stack, or a stack that is down', () => {
  test('with no stack file here or above, the client commands say STACK_NOT_FOUND', async () => {
    const nowhere = await tempDir('longrun-nowhere-')
    try {
      for (const args of [['invoke', 'hello'], ['tasks'], ['memory', 'events', '--session', 'x']]) {
        const outcome = await longrun(nowhere.path, args)
        assert.equal(outcome.code, 1, args.join(' '))
        assert.match(outcome.stderr, /^longrun: STACK_NOT_FOUND: /, args.join(' '))
      }
    } finally {
      await nowhere.remove()
    }
  })

  test('a stack file whose process is gone, or whose service does not answer, is STACK_DOWN', async () => {
    const project = await tempDir('longrun-down-')
    const inside = join(project.path, 'src')
    await mkdir(inside)
    try {
      const gone = spawn(NODE, ['-e', ''])
      await once(gone, 'exit')
      await writeStackFile(join(project.path, '.longrun'), gone.pid as number, 'http://127.0.0.1:8090')
      const killed = await longrun(inside, ['invoke', 'hello'])
      assert.equal(killed.code, 1)
      assert.match(killed.stderr, /^longrun: STACK_DOWN: /)
      assert.ok(killed.stderr.includes(join(project.path, '.longrun')), 'it names where the stack was')

      // A live process (this test's) whose service does not answer: a hung stack, or a reused pid.
      const silent = (await unreachableMcpUrl()).replace(/\/mcp$/, '')
      await writeStackFile(join(project.path, '.longrun'), process.pid, silent)
      const hung = await longrun(inside, ['tasks'])
      assert.equal(hung.code, 1)
      assert.match(hung.stderr, /^longrun: STACK_DOWN: /)
      // With LONGRUN_DATA_DIR set, only that directory is looked at: no search upwards.
      const named = await longrun(inside, ['invoke', 'hello'], { LONGRUN_DATA_DIR: join(inside, 'data') })
      assert.match(named.stderr, /^longrun: STACK_NOT_FOUND: /)
    } finally {
      await project.remove()
    }
  })
})
