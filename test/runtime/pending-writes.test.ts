import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { DemoModel } from '../../src/demo-model/index.ts'
import { decodeMemoryEvent } from '../../src/memory/index.ts'
import {
  AgentRuntimeServer,
  createAgentInvocationHandler,
  PendingWrites,
  SESSION_ID_HEADER,
} from '../../src/runtime/index.ts'
import { HealthStatus } from '../../src/shared/health-status.ts'
import { listSessionEvents } from '../helpers/local-agentcore.ts'
import { FAST_RETRY, useMemoryTestBed, waitFor } from '../helpers/memory-session.ts'
import { sessionIdFor } from '../helpers/runtime-stack.ts'

describe('a turn whose memory write keeps failing is answered, and its messages are written later', () => {
  const bed = useMemoryTestBed('pending_memory')

  test('the answer is delivered, /ping stays busy while writes are owed, and they land once memory recovers', async () => {
    const health = new HealthStatus()
    const pendingWrites = new PendingWrites({
      onOwedChange: (owed) => health.setDeliveryOwed(owed),
      logger: { warn: () => {} },
      baseDelayMs: 50,
      maxDelayMs: 200,
    })
    const server = await AgentRuntimeServer.start({
      port: 0,
      host: '127.0.0.1',
      defaultMemoryId: bed.memoryId,
      health,
      handler: createAgentInvocationHandler({
        model: new DemoModel(),
        memoryClient: bed.client,
        sessionManager: { retry: FAST_RETRY },
        pendingWrites,
        logger: { warn: () => {} },
      }),
    })
    const sessionId = sessionIdFor('writes-owed')
    try {
      bed.env.service.faults.set({ CreateEvent: { errorRate: 1 } })
      const response = await fetch(`${server.url}/invocations`, {
        method: 'POST',
        headers: { [SESSION_ID_HEADER]: sessionId },
        body: JSON.stringify({ prompt: 'hello there' }),
      })
      assert.equal(response.status, 200)
      assert.match(
        ((await response.json()) as { response: string }).response,
        /^\[demo model\] I am the offline demo model/,
      )
      assert.equal(pendingWrites.size, 1)
      // Past the 2 s a finished turn keeps /ping busy, the owed writes still do.
      await new Promise((resolve) => setTimeout(resolve, 2_500))
      assert.equal(pendingWrites.size, 1)
      assert.equal(health.report().status, 'HealthyBusy')
      assert.deepEqual(await listSessionEvents(bed.env.data, bed.memoryId, 'default', sessionId), [])

      bed.env.service.faults.set({})
      await waitFor(() => pendingWrites.size === 0, 10_000, 'the owed writes to land')
      await waitFor(() => health.report().status === 'Healthy', 10_000, '/ping to report Healthy again')
      const messages = (await listSessionEvents(bed.env.data, bed.memoryId, 'default', sessionId)).flatMap(
        (event) => decodeMemoryEvent(event).messages,
      )
      assert.deepEqual(
        messages.map((message) => message.role),
        ['user', 'assistant'],
        'the prompt and the answer, each once',
      )
    } finally {
      bed.env.service.faults.set({})
      await server.close()
      await pendingWrites.flushAll()
    }
  })
})
