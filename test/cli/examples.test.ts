import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { NODE, startServiceProcess, stopServiceProcess } from '../helpers/child-process.ts'
import { startLocalAgentCore } from '../helpers/local-agentcore.ts'
import { connectClient, structured, tempDir } from '../helpers/mcp-server.ts'

const run = promisify(execFile)
const ROOT = new URL('../..', import.meta.url).pathname

describe("the README's examples, run as written", () => {
  before(async () => {
    // `longrun/...` imports resolve to the built package, as `npm install` (prepare) leaves it.
    await run(NODE, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT })
  })

  test('npx node examples/memory-quickstart.ts works against the local service with only AGENTCORE_ENDPOINT set', async (t) => {
    const env = await startLocalAgentCore()
    t.after(() => env.close())
    const { stdout } = await run(
      'npx',
      ['node', '--disable-warning=ExperimentalWarning', 'examples/memory-quickstart.ts'],
      {
        cwd: ROOT,
        env: { ...process.env, AGENTCORE_ENDPOINT: env.service.url },
      },
    )
    assert.match(stdout, /memory quickstart_\d+-[a-zA-Z0-9]{10} is ACTIVE/)
    assert.match(
      stdout,
      /USER: Train a classifier on my data set\nASSISTANT: Started training; I will report back\./,
    )
  })

  test('the "Add a tool of your own" server imports longrun/mcp-server and counts primes for a real MCP client', async (t) => {
    // Run from a scratch directory, so its .longrun/ lands there and not in the checkout.
    const dir = await tempDir('longrun-example-')
    t.after(() => dir.remove())
    const server = await startServiceProcess(
      `${ROOT}examples/count-primes-server.ts`,
      { MCP_BEARER_TOKEN: 'example-token', MCP_PORT: '0' },
      dir.path,
    )
    try {
      const client = await connectClient(server.url, { token: 'example-token' })
      try {
        const result = await client.callTool({ name: 'count_primes', arguments: { limit: 300_000 } })
        assert.deepEqual(structured(result), { limit: 300_000, count: 25_997 })
        const started = await client.callTool({ name: 'start_count_primes', arguments: { limit: 1000 } })
        assert.equal(typeof structured(started).task_id, 'string')
      } finally {
        await client.close()
      }
    } finally {
      await stopServiceProcess(server, 'SIGTERM')
    }
  })
})
