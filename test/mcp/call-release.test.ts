import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { after, describe, test } from 'node:test'
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js'
import { Agent } from '@strands-agents/sdk'
import { LongRunningMcpClient } from '../../src/mcp/index.ts'
import { TEST_TOKEN, useMcpTestBed } from '../helpers/mcp-server.ts'
import { ScriptedModel } from '../helpers/scripted-model.ts'

// A full collection on demand, without starting the test process with --expose-gc.
setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void

/** How many of `refs` survive a full collection; collects until none does, at most `rounds` times. */
async function survivors(refs: readonly WeakRef<object>[], rounds = 10): Promise<number> {
  let alive = refs.length
  for (let round = 0; round < rounds && alive > 0; round += 1) {
    // A WeakRef keeps its target until the current job ends: collect from a fresh one.
    await new Promise((resolve) => setImmediate(resolve))
    collectGarbage()
    alive = refs.filter((ref) => ref.deref() !== undefined).length
  }
  return alive
}

describe('LongRunningMcpClient lets go of each call once it settles', () => {
  // Epochs paced at 100 ms, heartbeats every 50 ms: a call can be aborted while it runs.
  const bed = useMcpTestBed(() => ({ epochDelayMs: 100, heartbeatIntervalMs: 50 }))
  const clients: LongRunningMcpClient[] = []
  after(() => Promise.all(clients.map((client) => client.disconnect())))

  test('agents of many invocations under one long-lived cancel signal can all be collected, and no listener stays on that signal', async () => {
    // A process-wide signal, as a server that serves many sessions holds one: it never aborts here.
    const serverLifetime = new AbortController()
    const refs: WeakRef<object>[] = []
    const invocations = 12
    // Each invocation builds its own client and agent, as the runtime does, and drops them after.
    const invoke = async (index: number) => {
      const client = new LongRunningMcpClient({ url: bed.server.url, bearerToken: TEST_TOKEN })
      const model = new ScriptedModel([
        {
          toolUses: [
            { name: 'text_statistics', toolUseId: `tu-${index}`, input: { text: `call ${index} words` } },
          ],
        },
        { text: 'counted' },
      ])
      const agent = new Agent({ model, tools: [client], printer: false })
      const result = await agent.invoke('count the words', { cancelSignal: serverLifetime.signal })
      assert.equal(result.stopReason, 'endTurn')
      await client.disconnect()
      refs.push(new WeakRef(client), new WeakRef(agent))
    }
    for (let index = 0; index < invocations; index += 1) await invoke(index)
    assert.equal(refs.length, 2 * invocations)
    assert.equal(getEventListeners(serverLifetime.signal, 'abort').length, 0)
    assert.equal(await survivors(refs), 0, 'every client and agent was collected')
  })

  test('a call the caller aborts mid-way ends as a cancelled request and leaves no listener on its signal', async () => {
    const caller = new AbortController()
    const client = new LongRunningMcpClient({
      url: bed.server.url,
      bearerToken: TEST_TOKEN,
      // The first progress notification shows the call is running: the caller gives up then.
      onProgress: () => caller.abort(new Error('the user left')),
    })
    clients.push(client)
    const tools = await client.listTools()
    const training = tools.find((tool) => tool.name === 'model_training')
    assert.ok(training, 'the server offers model_training')
    await assert.rejects(
      client.callTool(training, { model_name: 'aborted-run', epochs: 50 }, { signal: caller.signal }),
      // The MCP SDK ends an aborted request as it ends a timed-out one, and tells the server.
      (error: unknown) => error instanceof McpError && error.code === ErrorCode.RequestTimeout,
    )
    assert.equal(getEventListeners(caller.signal, 'abort').length, 0)
  })

  test('a call whose caller signal is already aborted is refused at once, and no listener is added', async () => {
    const client = new LongRunningMcpClient({ url: bed.server.url, bearerToken: TEST_TOKEN })
    clients.push(client)
    const tools = await client.listTools()
    const statistics = tools.find((tool) => tool.name === 'text_statistics')
    assert.ok(statistics, 'the server offers text_statistics')
    const signal = AbortSignal.abort(new Error('already gone'))
    await assert.rejects(client.callTool(statistics, { text: 'never counted' }, { signal }))
    assert.equal(getEventListeners(signal, 'abort').length, 0)
  })
})
