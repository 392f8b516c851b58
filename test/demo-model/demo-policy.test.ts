import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { decideDemoTurn, type DemoMessage } from '../../src/demo-model/index.ts'

const TOOLS = [
  'model_training',
  'start_model_training',
  'check_task_status',
  'get_task_results',
  'cancel_task',
  'list_tasks',
]
const user = (text: string): DemoMessage => ({ role: 'user', content: [{ text }] })
const called = (name: string, toolUseId: string, input: unknown = {}): DemoMessage => ({
  role: 'assistant',
  content: [{ toolUse: { toolUseId, name, input } }],
})
const answered = (toolUseId: string, text: string, status = 'success'): DemoMessage => ({
  role: 'user',
  content: [{ toolResult: { toolUseId, status, content: [{ text }] } }],
})
const STARTED = [
  user('train a model called fraud-v1 for 30 epochs'),
  called('start_model_training', 'tu-1', { model_name: 'fraud-v1', epochs: 30 }),
  answered(
    'tu-1',
    'Started task TaskIdAbCdEf0123456789xyz (model_training). Check it with check_task_status.',
  ),
  {
    role: 'assistant',
    content: [{ text: '[demo model] Started task TaskIdAbCdEf0123456789xyz' }],
  } as DemoMessage,
]
const RESULT = {
  model_name: 'fraud-v1',
  epochs: 30,
  test_accuracy: 0.9125,
  train_accuracy: 0.903125,
  final_loss: 0.2461,
  test_loss: 0.25,
}

describe('the demo model decides deterministically', () => {
  test('requests become tool calls with the arguments they name', () => {
    const call = (prompt: string, history: DemoMessage[] = []) =>
      decideDemoTurn([...history, user(prompt)], TOOLS)
    assert.deepEqual(pick(call('Train a model called churn_2 for 12 epochs')), [
      'start_model_training',
      { model_name: 'churn_2', epochs: 12 },
    ])
    assert.deepEqual(
      pick(call('train a model named q for 3 epochs with learning rate 0.1 and wait for it')),
      ['model_training', { model_name: 'q', epochs: 3, learning_rate: 0.1 }],
    )
    assert.deepEqual(pick(call('what is the status of my task', STARTED)), [
      'check_task_status',
      { task_id: 'TaskIdAbCdEf0123456789xyz' },
    ])
    assert.deepEqual(pick(call('cancel it', STARTED)), [
      'cancel_task',
      { task_id: 'TaskIdAbCdEf0123456789xyz' },
    ])
    assert.deepEqual(pick(call('show my results', STARTED)), [
      'get_task_results',
      { task_id: 'TaskIdAbCdEf0123456789xyz' },
    ])
    assert.deepEqual(pick(call('list my tasks')), ['list_tasks', {}])
    assert.equal(decideDemoTurn([user('train a model')], TOOLS).kind, 'toolUse')
    const same = decideDemoTurn([user('list my tasks')], TOOLS)
    assert.deepEqual(
      decideDemoTurn([user('list my tasks')], TOOLS),
      same,
      'the same conversation, the same call',
    )
  })

  test('a result delivered into the conversation is reported with its exact numbers, without a tool call', () => {
    const delivered = user(
      `Long-running task TaskIdAbCdEf0123456789xyz (tool model_training) completed.\nResult:\n${JSON.stringify(RESULT, null, 2)}`,
    )
    const decision = decideDemoTurn([...STARTED, delivered, user('what happened to my training?')], TOOLS)
    assert.equal(decision.kind, 'text')
    const text = decision.kind === 'text' ? decision.text : ''
    assert.match(text, /^\[demo model\] Your task TaskIdAbCdEf0123456789xyz \(model_training\) completed/)
    for (const value of ['test accuracy 0.9125', 'train accuracy 0.903125', 'final loss 0.2461'])
      assert.ok(text.includes(value), text)
  })

  test('tool results are reported; an interrupted turn with a new prompt answers the prompt', () => {
    const history = [
      user('list my tasks'),
      called('list_tasks', 'tu-9'),
      answered('tu-9', '{"tasks":[],"next_cursor":null}'),
    ]
    assert.deepEqual(decideDemoTurn(history, TOOLS), {
      kind: 'text',
      text: '[demo model] You have no tasks.',
    })
    const failed = [
      user('x'),
      called('start_model_training', 'tu-2'),
      answered('tu-2', 'MCP server down', 'error'),
    ]
    const report = decideDemoTurn(failed, TOOLS)
    assert.match(
      report.kind === 'text' ? report.text : '',
      /The tool start_model_training failed: MCP server down/,
    )
    const interrupted: DemoMessage = {
      role: 'user',
      content: [
        { toolResult: { toolUseId: 'tu-2', status: 'error', content: [{ text: 'interrupted' }] } },
        { text: 'list my tasks' },
      ],
    }
    assert.equal(
      decideDemoTurn([user('x'), called('model_training', 'tu-2'), interrupted], TOOLS).kind,
      'toolUse',
    )
  })

  test('a tool that is not on offer is not called; the answer says it is unavailable', () => {
    const decision = decideDemoTurn([user('train a model called z for 2 epochs')], [])
    assert.equal(decision.kind, 'text')
    assert.match(decision.kind === 'text' ? decision.text : '', /not available right now/)
  })
})

function pick(decision: ReturnType<typeof decideDemoTurn>): [string, unknown] | undefined {
  return decision.kind === 'toolUse' ? [decision.name, decision.input] : undefined
}
