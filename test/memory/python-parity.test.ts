import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Agent } from '@strands-agents/sdk'
import { MemoryConfigError, SessionCache } from '../../src/memory/index.ts'
import { listAllEvents, useMemoryTestBed } from '../helpers/memory-session.ts'
import { ScriptedModel } from '../helpers/scripted-model.ts'

const ACTOR = 'parity-user'

describe('parity with the Python manager: deleteSession and a metadata provider', () => {
  const bed = useMemoryTestBed('parity_memory')

  test('deleteSession deletes every event of the session, and a warm cache of it is forgotten', async () => {
    const sessionId = 'parity-delete'
    const cache = new SessionCache()
    const manager = bed.manager({ sessionId, actorId: ACTOR, sessionCache: cache })
    const agent = new Agent({
      model: new ScriptedModel([{ text: 'one' }, { text: 'two' }]),
      sessionManager: manager,
      printer: false,
    })
    await agent.invoke('first')
    await agent.invoke('second')
    await manager.close()
    assert.ok((await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)).length > 0)
    // The next agent's restore keeps the window for warm invocations.
    const next = bed.manager({ sessionId, actorId: ACTOR, sessionCache: cache })
    await new Agent({ model: new ScriptedModel(), sessionManager: next, printer: false }).initialize()
    assert.equal(cache.size, 1)
    await next.deleteSession()
    assert.deepEqual(await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId), [])
    assert.equal(cache.size, 0)
    const fresh = bed.manager({ sessionId, actorId: ACTOR, sessionCache: cache })
    const again = new Agent({ model: new ScriptedModel(), sessionManager: fresh, printer: false })
    await again.initialize()
    assert.deepEqual(again.messages, [], 'a new agent on the session starts empty')
  })

  test('deleteSession drops what is still buffered: nothing of the session is written after it', async () => {
    const sessionId = 'parity-delete-buffered'
    const manager = bed.manager({ sessionId, actorId: ACTOR })
    // A new session given messages up front: they are buffered at initialize, not yet written.
    const agent = new Agent({
      model: new ScriptedModel(),
      sessionManager: manager,
      printer: false,
      messages: [
        { role: 'user', content: [{ text: 'seeded question' }] },
        { role: 'assistant', content: [{ text: 'seeded answer' }] },
      ],
    })
    await agent.initialize()
    assert.ok(manager.pendingWrites > 0, 'the seeded messages wait in the buffer')
    await manager.deleteSession()
    assert.equal(manager.pendingWrites, 0)
    await manager.close()
    assert.deepEqual(await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId), [])
  })

  test('metadataProvider puts its metadata on every event; a bad answer refuses the write and keeps the messages', async () => {
    const sessionId = 'parity-metadata'
    let tenant = 'acme'
    const manager = bed.manager({ sessionId, actorId: ACTOR, metadataProvider: () => ({ tenant }) })
    const agent = new Agent({
      model: new ScriptedModel([{ text: 'hi' }, { text: 'again' }]),
      sessionManager: manager,
      printer: false,
    })
    await agent.invoke('hello')
    const events = await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)
    assert.ok(events.length > 0)
    assert.ok(events.every((event) => event.metadata?.tenant?.stringValue === 'acme'))
    tenant = 'not allowed: {}'
    await assert.rejects(
      agent.invoke('hello again'),
      (error: unknown) => error instanceof MemoryConfigError && error.field === 'metadataProvider().tenant',
    )
    assert.ok(manager.pendingWrites > 0, 'the messages are kept for the next flush')
    tenant = 'acme-2'
    await manager.close()
    const after = await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)
    assert.equal(after.length, events.length + 1)
    assert.equal(after.at(-1)?.metadata?.tenant?.stringValue, 'acme-2')
  })
})
