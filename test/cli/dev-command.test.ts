import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { test } from 'node:test'
import { BedrockAgentCoreClient } from '@aws-sdk/client-bedrock-agentcore'
import { TEST_CREDENTIALS } from '../helpers/local-agentcore.ts'
import { connectClient, listAllEvents, structured, tempDir, waitFor } from '../helpers/mcp-server.ts'

const CLI = new URL('../../src/cli/main.ts', import.meta.url).pathname

test('longrun dev wires the MCP server to the local memory: a finished task lands as a USER event', async (t) => {
  const dir = await tempDir('longrun-dev-')
  t.after(() => dir.remove())
  const child = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      CLI,
      'dev',
      '--port',
      '0',
      '--mcp-port',
      '0',
      '--data-dir',
      dir.path,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MCP_BEARER_TOKEN: 'dev-test-token' } },
  )
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  const printed = new Map<string, string>()
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const local = /AgentCore service listening on (\S+)/.exec(line)
      const mcp = /MCP server listening on (\S+)/.exec(line)
      const memory = /memory id:\s+(\S+)/.exec(line)
      if (local?.[1]) printed.set('local', local[1])
      if (mcp?.[1]) printed.set('mcp', mcp[1])
      if (memory?.[1]) printed.set('memory', memory[1])
      if (line.includes('Ctrl-C')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`longrun dev exited early with ${code}`)))
  })
  const memoryId = printed.get('memory') as string
  const caller = { sessionId: 'dev-session', memoryId, actorId: 'dev-user' }
  const client = await connectClient(printed.get('mcp') as string, {
    token: 'dev-test-token',
    memory: caller,
  })
  const data = new BedrockAgentCoreClient({
    endpoint: printed.get('local') as string,
    region: 'us-east-1',
    credentials: TEST_CREDENTIALS,
  })
  try {
    const started = await client.callTool({
      name: 'start_text_statistics',
      arguments: { text: 'one two two three three three' },
    })
    const taskId = structured(started).task_id as string
    const events = await waitFor(async () => {
      const all = await listAllEvents(data, memoryId, caller.actorId, caller.sessionId)
      return all.length > 0 ? all : undefined
    })
    assert.equal(events.length, 1)
    assert.ok(events[0]?.text.includes(taskId), 'the event names the task')
  } finally {
    await client.close()
    data.destroy()
  }
  child.kill('SIGINT')
  const [code] = await once(child, 'exit')
  assert.equal(code, 0)
})
