import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  AgentConfigError,
  buildInvocationAgent,
  type InvocationAgent,
  McpToolListings,
} from '../../src/agent/index.ts'
import { parseCompositeSessionHeader } from '../../src/mcp/index.ts'
import { FAST_RETRY, useMemoryTestBed } from '../helpers/memory-session.ts'
import { type RecordingMcpServer, startRecordingMcpServer } from '../helpers/recording-mcp-server.ts'
import { ScriptedModel, type ScriptStep, textsOf, toolUseTurn } from '../helpers/scripted-model.ts'

const ALICE_TOKEN = 'alice-token'
const BOB_TOKEN = 'bob-token'

describe('MCP tool listings kept per process (longrun/agent)', () => {
  const bed = useMemoryTestBed('agent_listings')
  let server: RecordingMcpServer
  let sessions = 0
  const built: InvocationAgent[] = []
  before(async () => {
    server = await startRecordingMcpServer([ALICE_TOKEN, BOB_TOKEN])
  })
  after(async () => {
    for (const agent of built) await agent.close()
    await server.close()
  })

  /** Builds one invocation's agent, runs `steps` through it and closes it; answers the agent and the model. */
  const invocation = async (
    listings: McpToolListings,
    steps: ScriptStep[],
    caller: { token: string; actorId: string } = { token: ALICE_TOKEN, actorId: 'alice' },
  ) => {
    sessions += 1
    const model = new ScriptedModel(steps)
    const agent = await buildInvocationAgent({
      model,
      memory: {
        memoryId: bed.memoryId,
        actorId: caller.actorId,
        sessionId: `listing-session-${sessions}`,
        client: bed.client,
      },
      mcp: { url: server.url, bearerToken: caller.token, listings },
      sessionManager: { retry: FAST_RETRY },
      logger: { warn: () => {} },
    })
    built.push(agent)
    const names = agent.agent.tools.map((tool) => tool.name).sort()
    if (steps.length > 0) await agent.agent.invoke('go')
    await agent.close()
    return { names, model, problem: agent.toolProblem }
  }
  /** The text of the tool result the model was sent after its first turn. */
  const toolResultText = (model: ScriptedModel) => textsOf(model.calls[1]).join(' | ')

  test('a listing is reused by later invocations until the server says its tools changed, then listed again', async () => {
    let echoed = 0
    server.addTool({ name: 'echo', run: ({ args }) => `echo ${String(args.text)} #${(echoed += 1)}` })
    server.addTool({
      name: 'enable_extra',
      run: async (call) => {
        server.addTool({ name: 'extra', run: () => 'extra ran' })
        await call.notifyToolsChanged()
        return 'extra enabled'
      },
    })
    const listings = new McpToolListings()

    const first = await invocation(listings, [])
    assert.deepEqual(first.names, ['echo', 'enable_extra'])
    assert.equal(server.count('tools/list'), 1)
    assert.equal(server.count('initialize'), 1)

    const kept = await invocation(listings, [])
    assert.deepEqual(kept.names, ['echo', 'enable_extra'], 'the same tools are offered')
    assert.equal(server.count('initialize'), 1, 'an invocation that calls no tool does not connect')
    assert.equal(server.count('tools/list'), 1)

    const calling = await invocation(listings, [
      toolUseTurn('echo', 'echo-1', { text: 'hi' }),
      { text: 'ok' },
    ])
    assert.match(toolResultText(calling.model), /echo hi #1/, 'a kept tool calls the real one')
    assert.equal(server.count('tools/call'), 1)

    const enabling = await invocation(listings, [toolUseTurn('enable_extra', 'enable-1'), { text: 'ok' }])
    assert.match(toolResultText(enabling.model), /extra enabled/)
    const listedBefore = server.count('tools/list')

    const after = await invocation(listings, [])
    assert.deepEqual(after.names, ['echo', 'enable_extra', 'extra'], 'the new tool is offered')
    assert.equal(server.count('tools/list'), listedBefore + 1, 'listed again when the agent was built')
  })

  test('a tool the server dropped without saying so answers an error, calls nothing, and is not offered again', async () => {
    const dropped = { calls: 0 }
    server.addTool({ name: 'fleeting', run: () => `fleeting ran ${(dropped.calls += 1)}` })
    const listings = new McpToolListings()
    const listed = await invocation(listings, [])
    assert.ok(listed.names.includes('fleeting'))

    server.removeTool('fleeting')
    const stale = await invocation(listings, [toolUseTurn('fleeting', 'fleeting-1'), { text: 'ok' }])
    assert.ok(stale.names.includes('fleeting'), 'the kept listing still offers it')
    assert.match(toolResultText(stale.model), /no longer offers fleeting\. Nothing was started/)
    assert.equal(
      server.requests.filter((request) => request.tool === 'fleeting').length,
      0,
      'no call of fleeting reached the server',
    )
    assert.equal(dropped.calls, 0)

    const listedBefore = server.count('tools/list')
    const fresh = await invocation(listings, [])
    assert.ok(!fresh.names.includes('fleeting'), 'the listing made by the call replaced the kept one')
    assert.equal(server.count('tools/list'), listedBefore, 'and it was not listed again to find out')
  })

  test('a kept tool whose server went down answers a clear error; the next invocation lists again and is told', async () => {
    const gone = await startRecordingMcpServer([ALICE_TOKEN])
    gone.addTool({ name: 'short_lived', run: () => 'short lived ran' })
    const listings = new McpToolListings()
    const build = async (steps: ScriptStep[]) => {
      sessions += 1
      const model = new ScriptedModel(steps)
      const agent = await buildInvocationAgent({
        model,
        memory: {
          memoryId: bed.memoryId,
          actorId: 'alice',
          sessionId: `gone-session-${sessions}`,
          client: bed.client,
        },
        mcp: { url: gone.url, bearerToken: ALICE_TOKEN, listings },
        sessionManager: { retry: FAST_RETRY },
      })
      if (steps.length > 0) await agent.agent.invoke('go')
      await agent.close()
      return { agent, model }
    }
    await build([])
    await gone.close()
    const calling = await build([toolUseTurn('short_lived', 'short-1'), { text: 'ok' }])
    assert.equal(calling.agent.toolProblem, undefined, 'offered from the kept listing, without connecting')
    assert.match(
      toolResultText(calling.model),
      /cannot be used: ECONNREFUSED.*Nothing was started; try again later/,
    )
    const next = await build([])
    assert.match(
      next.agent.toolProblem ?? '',
      /cannot be used: ECONNREFUSED/,
      'the next invocation found out first',
    )
    assert.deepEqual(
      next.agent.agent.tools.map((tool) => tool.name),
      ['short_lived'],
      'the last tools listed stay offered, answering with the error',
    )
  })

  test('two callers with different tokens never share a listing or a connection identity', async () => {
    server.addTool({
      name: 'whoami',
      run: ({ token, sessionHeader }) =>
        `token=${token} actor=${parseCompositeSessionHeader(sessionHeader ?? '').actorId}`,
    })
    server.addTool({ name: 'bob_only', run: () => 'bob only' }, [BOB_TOKEN])
    const listings = new McpToolListings()
    const alice = { token: ALICE_TOKEN, actorId: 'alice' }
    const bob = { token: BOB_TOKEN, actorId: 'bob' }
    const startedAt = server.requests.length

    const aliceFirst = await invocation(listings, [toolUseTurn('whoami', 'who-a1'), { text: 'ok' }], alice)
    const bobFirst = await invocation(listings, [toolUseTurn('whoami', 'who-b1'), { text: 'ok' }], bob)
    assert.equal(server.count('tools/list', BOB_TOKEN) >= 1, true, "bob's tools were listed with bob's token")
    assert.ok(bobFirst.names.includes('bob_only'), "bob is offered bob's tools")
    assert.ok(!aliceFirst.names.includes('bob_only'), "alice is not offered bob's tools")
    for (let round = 0; round < 3; round += 1) {
      const a = await invocation(listings, [toolUseTurn('whoami', `who-a-${round}`), { text: 'ok' }], alice)
      const b = await invocation(listings, [toolUseTurn('whoami', `who-b-${round}`), { text: 'ok' }], bob)
      assert.match(toolResultText(a.model), /token=alice-token actor=alice/)
      assert.match(toolResultText(b.model), /token=bob-token actor=bob/)
      assert.ok(!a.names.includes('bob_only') && b.names.includes('bob_only'))
    }
    const seen = server.requests.slice(startedAt)
    assert.ok(seen.length > 0)
    for (const request of seen) {
      const actor = parseCompositeSessionHeader(request.sessionHeader ?? '').actorId
      assert.equal(actor, request.token === ALICE_TOKEN ? 'alice' : 'bob', JSON.stringify(request))
    }
  })

  test('a listing older than maxAgeMs is made again; a bad limit is refused naming its field', async () => {
    server.addTool({ name: 'aging', run: () => 'aging ran' })
    let now = 1_000_000
    const listings = new McpToolListings({ maxAgeMs: 5_000, clock: () => now })
    await invocation(listings, [])
    const listed = server.count('tools/list')
    now += 4_999
    await invocation(listings, [])
    assert.equal(server.count('tools/list'), listed, 'still current')
    now += 1
    await invocation(listings, [])
    assert.equal(server.count('tools/list'), listed + 1, 'listed again once maxAgeMs passed')

    for (const [field, config] of [
      ['maxAgeMs', { maxAgeMs: -1 }],
      ['maxEntries', { maxEntries: 0 }],
      ['maxAgeMs', { maxAgeMs: 1.5 }],
    ] as const) {
      assert.throws(
        () => new McpToolListings(config),
        (error: unknown) =>
          error instanceof AgentConfigError && error.code === 'INVALID_AGENT_CONFIG' && error.field === field,
      )
    }
  })
})
