/**
 * The runtime a server wakes, as the deployment names it (`wake-target.ts`): an ARN is taken as it
 * is; a name is resolved through ListAgentRuntimes (a stand-in of our own `ListRuntimes` type here)
 * across pages, once; anything else is refused as INVALID_CONFIG before the server starts.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { LongRunningMcpServer, McpServerError } from '../../src/mcp-server/index.ts'
import { type ListRuntimes, wakeTarget } from '../../src/mcp-server/wake-target.ts'
import { tempDir, TEST_TOKEN } from '../helpers/mcp-server.ts'
import { jobTool } from '../helpers/wake.ts'

const arnOf = (name: string, suffix: string) =>
  `arn:aws:bedrock-agentcore:eu-west-1:123456789012:runtime/${name}-${suffix}`

/** A control plane listing `pages` (each page its runtimes, chained by tokens), counting its calls. */
function listing(pages: ReadonlyArray<ReadonlyArray<{ name: string; arn: string }>>) {
  const calls: Array<string | undefined> = []
  let lists = 0
  const list: ListRuntimes = async (nextToken) => {
    calls.push(nextToken)
    // A page at a time, each a turn of the event loop apart, as a network call would be.
    await new Promise((resolve) => setImmediate(resolve))
    const index = nextToken === undefined ? 0 : Number(nextToken.slice('page-'.length))
    const runtimes = pages[index]
    if (runtimes === undefined) throw Object.assign(new Error('bad token'), { code: 'ValidationException' })
    return { runtimes, ...(index + 1 < pages.length && { nextToken: `page-${index + 1}` }) }
  }
  return {
    calls,
    lists: () => lists,
    factory: () => {
      lists += 1
      return list
    },
  }
}

const refusedAsConfig = (error: unknown) =>
  error instanceof McpServerError && error.code === 'INVALID_CONFIG' && error.field === 'MCP_WAKE_RUNTIME'

describe('the runtime a server wakes', () => {
  test('an ARN is woken as it is, with no lookup', async () => {
    const control = listing([])
    const arn = arnOf('longrun_agent', 'AbCdEf1234')
    const target = wakeTarget(arn, control.factory)
    assert.equal(await target(), arn)
    assert.equal(control.lists(), 0)
    assert.deepEqual(control.calls, [])
  })

  test('a name is resolved through ListAgentRuntimes across pages, once for every wake after it', async () => {
    const wanted = arnOf('longrun_agent', 'Zz9Yy8Xx7W')
    const control = listing([
      [
        { name: 'other_agent', arn: arnOf('other_agent', 'AAAAAAAAAA') },
        { name: 'longrun_agent_v2', arn: arnOf('longrun_agent_v2', 'BBBBBBBBBB') },
      ],
      [],
      [
        { name: 'longrun', arn: arnOf('longrun', 'CCCCCCCCCC') },
        { name: 'longrun_agent', arn: wanted },
      ],
      [{ name: 'longrun_agent', arn: arnOf('longrun_agent', 'DDDDDDDDDD') }],
    ])
    const target = wakeTarget('longrun_agent', control.factory)
    assert.equal(control.lists(), 0, 'nothing is looked up before the first wake')
    // Wakes at once share the one lookup.
    assert.deepEqual(await Promise.all([target(), target(), target()]), [wanted, wanted, wanted])
    assert.equal(await target(), wanted)
    assert.deepEqual(control.calls, [undefined, 'page-1', 'page-2'], 'pages read until found, once')
    assert.equal(control.lists(), 1)
  })

  test('a name no runtime has is WAKE_RUNTIME_NOT_FOUND, and a failed lookup is tried again at the next wake', async () => {
    const missing = listing([[{ name: 'someone_else', arn: arnOf('someone_else', 'AAAAAAAAAA') }], []])
    const target = wakeTarget('longrun_agent', missing.factory)
    await assert.rejects(
      target(),
      (error: unknown) => (error as { code?: string }).code === 'WAKE_RUNTIME_NOT_FOUND',
    )
    await assert.rejects(
      target(),
      (error: unknown) => (error as { code?: string }).code === 'WAKE_RUNTIME_NOT_FOUND',
    )
    assert.equal(missing.lists(), 2, 'not remembered: the runtime may be created later')

    let failures = 1
    const arn = arnOf('longrun_agent', 'AbCdEf1234')
    let lists = 0
    const flaky = wakeTarget('longrun_agent', () => {
      lists += 1
      return async () => {
        if (failures > 0) {
          failures -= 1
          throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' })
        }
        return { runtimes: [{ name: 'longrun_agent', arn }] }
      }
    })
    await assert.rejects(flaky(), (error: unknown) => (error as Error).name === 'ThrottlingException')
    assert.equal(await flaky(), arn)
    assert.equal(await flaky(), arn)
    assert.equal(lists, 2)
  })

  test('anything but an agent runtime ARN or name is INVALID_CONFIG, at once', () => {
    const never = () => assert.fail('nothing is looked up for a value that cannot be a runtime')
    for (const runtime of [
      'arn:aws:bedrock-agentcore:us-east-1:12345:runtime/longrun_agent-AbCdEf1234',
      'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/longrun_agent',
      'arn:aws:bedrock-agentcore:us-east-1:123456789012:memory/longrun_memory-AbCdEf1234',
      'arn:aws:lambda:us-east-1:123456789012:function:longrun_agent',
      `${arnOf('longrun_agent', 'AbCdEf1234')}/extra`,
      'https://example.com/agent',
      '',
      '1longrun',
      'longrun-agent',
      'longrun agent',
      `a${'b'.repeat(48)}`,
    ])
      assert.throws(() => wakeTarget(runtime, never), refusedAsConfig, JSON.stringify(runtime))
    // The longest name AgentCore takes is a name.
    assert.doesNotThrow(() => wakeTarget(`a${'b'.repeat(47)}`, never))
  })

  test('a server configured with a bad runtime does not start', async () => {
    const dir = await tempDir()
    try {
      await assert.rejects(
        LongRunningMcpServer.start({
          port: 0,
          host: '127.0.0.1',
          dataDir: dir.path,
          auth: { kind: 'bearer', token: TEST_TOKEN },
          tools: [jobTool('waking_job', 'wake')],
          region: 'us-east-1',
          agentCoreEndpoint: 'http://127.0.0.1:9',
          wake: { runtime: 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/nope' },
        }),
        refusedAsConfig,
      )
    } finally {
      await dir.remove()
    }
  })
})
