import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'
import { Agent } from '@strands-agents/sdk'
import {
  AgentCoreMemorySessionManager,
  INTERRUPTED_TOOL_RESULT_TEXT,
  userTextEventPayload,
  validateConverseHistory,
} from '../../src/memory/index.ts'
import { startLocalAgentCore } from '../helpers/local-agentcore.ts'
import { listAllEvents, managerClient, writeEvent } from '../helpers/memory-session.ts'
import { ScriptedModel, textOf } from '../helpers/scripted-model.ts'

const CHILD = fileURLToPath(new URL('./fixtures/crash-agent.ts', import.meta.url))

describe('a process killed while a tool runs', () => {
  it('leaves a session whose restored history passes the Converse check and keeps what was said', async (t) => {
    const env = await startLocalAgentCore()
    t.after(() => env[Symbol.asyncDispose]())
    const memoryId = await env.createMemory('crash_tests')
    const target = { memoryId, actorId: 'crash-user', sessionId: 'crash-session-1' }
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', CHILD], {
      env: {
        ...process.env,
        CRASH_ENDPOINT: env.service.url,
        CRASH_MEMORY_ID: memoryId,
        CRASH_SESSION_ID: target.sessionId,
        CRASH_ACTOR_ID: target.actorId,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    let stdout = ''
    const running = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        stdout += chunk
        if (stdout.includes('TOOL_RUNNING')) resolve()
      })
      child.on('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)))
    })
    await running
    child.kill('SIGKILL')
    const [, signal] = await once(child, 'exit')
    assert.equal(signal, 'SIGKILL')

    // The task the killed agent started finishes later and its result lands in the session.
    await writeEvent(env, target, [userTextEventPayload('train_model finished: accuracy 0.91')])

    const stored = await listAllEvents(env, memoryId, target.actorId, target.sessionId)
    assert.match(JSON.stringify(stored), /tooluse_train/)

    const client = managerClient(env)
    try {
      const model = new ScriptedModel([{ text: 'The training finished with 0.91.' }])
      const sessionManager = new AgentCoreMemorySessionManager({ ...target, client })
      const agent = new Agent({ model, sessionManager, printer: false })
      await agent.initialize()
      assert.deepEqual(validateConverseHistory(agent.messages), [])
      await agent.invoke('how did the training go?')
      const sent = model.calls[0] ?? []
      assert.deepEqual(validateConverseHistory(sent), [])
      assert.deepEqual(
        sent.map((message) => message.role),
        ['user', 'assistant', 'user'],
      )
      assert.equal(textOf(sent[0]), 'please train the model for 90 epochs')
      assert.equal(textOf(sent[1]), 'Starting the training.')
      const last = sent[2]?.content ?? []
      assert.deepEqual(last[0], {
        toolResult: {
          toolUseId: 'tooluse_train',
          status: 'error',
          content: [{ text: INTERRUPTED_TOOL_RESULT_TEXT }],
        },
      })
      assert.equal(textOf(sent[2]), 'train_model finished: accuracy 0.91|how did the training go?')
    } finally {
      client.destroy()
    }
  })
})
