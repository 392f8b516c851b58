import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { z } from 'zod'
import {
  defineLongRunningTool,
  INTERRUPTED_MESSAGE,
  RERUN_MESSAGE,
  TOOL_GONE_MESSAGE,
} from '../../src/mcp-server/index.ts'
import { restartOf, startMessageOf, takeOverOf } from '../../src/mcp-server/task-restart.ts'
import type { TaskRecord } from '../../src/mcp-server/task-record.ts'

const tool = (onRestart: 'rerun' | 'fail') =>
  defineLongRunningTool({
    name: `t_${onRestart}`,
    description: 'A tool.',
    input: z.object({}),
    onRestart,
    run: async () => 'done',
  })
const rerun = tool('rerun')
const fail = tool('fail')
const task = (
  change: Partial<Pick<TaskRecord, 'mode' | 'runs' | 'stage' | 'status' | 'tool'>> = {},
): Pick<TaskRecord, 'mode' | 'runs' | 'stage' | 'status' | 'tool'> => ({
  mode: 'async',
  runs: 1,
  stage: 'running',
  status: 'working',
  tool: rerun.name,
  ...change,
})
const none = new Set<string>()

describe('the restart rule, the same on every backend', () => {
  test('an interrupted task runs again while its tool says rerun and it ran fewer than maxAttempts times', () => {
    assert.deepEqual(restartOf(task({ runs: 2 }), rerun, 3), { rerun: true })
    assert.deepEqual(restartOf(task({ runs: 3 }), rerun, 3), { rerun: false, reason: INTERRUPTED_MESSAGE })
    assert.deepEqual(restartOf(task(), fail, 3), { rerun: false, reason: INTERRUPTED_MESSAGE })
  })

  test('an inline call never runs again (its request is gone), nor a task whose tool is gone', () => {
    assert.deepEqual(restartOf(task({ mode: 'inline' }), rerun, 3), {
      rerun: false,
      reason: INTERRUPTED_MESSAGE,
    })
    assert.deepEqual(restartOf(task(), undefined, 3), { rerun: false, reason: TOOL_GONE_MESSAGE })
  })

  test('a run says why it runs again, and a first run says nothing', () => {
    assert.equal(startMessageOf({ runs: 1 }), RERUN_MESSAGE)
    assert.equal(startMessageOf({ runs: 0 }), null)
  })

  test('a stopped process leaves: waiting tasks to wait here, interrupted ones to the restart rule', () => {
    assert.deepEqual(takeOverOf(task({ stage: 'queued', runs: 0 }), fail, none, 3), {
      action: 'queue',
      rerun: false,
      statusMessage: undefined,
    })
    assert.deepEqual(takeOverOf(task(), rerun, none, 3), {
      action: 'queue',
      rerun: true,
      statusMessage: RERUN_MESSAGE,
    })
    assert.deepEqual(takeOverOf(task(), fail, none, 3), { action: 'fail', reason: INTERRUPTED_MESSAGE })
    assert.deepEqual(takeOverOf(task({ stage: 'queued', mode: 'inline' }), rerun, none, 3), {
      action: 'fail',
      reason: INTERRUPTED_MESSAGE,
    })
  })

  test('a task cancelled while it ran is released; one whose tool only another live process serves is left to it', () => {
    assert.deepEqual(takeOverOf(task({ status: 'cancelled' }), rerun, none, 3), { action: 'release' })
    assert.deepEqual(takeOverOf(task({ tool: 'elsewhere' }), undefined, new Set(['elsewhere']), 3), {
      action: 'leave',
    })
    assert.deepEqual(takeOverOf(task({ tool: 'gone', stage: 'queued' }), undefined, none, 3), {
      action: 'fail',
      reason: TOOL_GONE_MESSAGE,
    })
  })
})
