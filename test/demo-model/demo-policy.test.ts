import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { continuationPrompt, stoppedContinuationPrompt } from '../../src/contract/index.ts'
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

describe('the demo model acts on a continuation', () => {
  const TRAINING = 'TrainTaskIdAbCdEf0123456'
  const EVALUATION = 'EvalTaskIdAbCdEf01234567'
  const delivered = (taskId: string, tool: string, result: object): DemoMessage =>
    user(`Long-running task ${taskId} (tool ${tool}) completed.\nResult:\n${JSON.stringify(result, null, 2)}`)
  const asked = (prompt: string): DemoMessage[] => [
    user(prompt),
    called('start_model_training', 'tu-1', { model_name: 'fraud-v2', epochs: 30 }),
    answered('tu-1', `Started task ${TRAINING} (model_training). Check it with check_task_status.`),
    { role: 'assistant', content: [{ text: `[demo model] Started task ${TRAINING}` }] },
    delivered(TRAINING, 'model_training', { ...RESULT, model_name: 'fraud-v2' }),
  ]
  const EVALUATED = {
    training_task_id: TRAINING,
    model_name: 'fraud-v2',
    samples: 20000,
    accuracy: 0.8471,
    f1: 0.84,
  }
  const text = (decision: ReturnType<typeof decideDemoTurn>) =>
    decision.kind === 'text' ? decision.text : ''
  const TOOLS_WITH_EVALUATION = [...TOOLS, 'start_evaluate_model']

  test('after a training the user asked to evaluate, the evaluation starts; without that ask, the result is reported', () => {
    const woken = [
      ...asked('Train a model called fraud-v2 for 30 epochs, then evaluate it.'),
      user(continuationPrompt(TRAINING)),
    ]
    assert.deepEqual(pick(decideDemoTurn(woken, TOOLS_WITH_EVALUATION)), [
      'start_evaluate_model',
      { training_task_id: TRAINING },
    ])
    const only = [
      ...asked('Train a model called fraud-v2 for 30 epochs.'),
      user(continuationPrompt(TRAINING)),
    ]
    const report = decideDemoTurn(only, TOOLS_WITH_EVALUATION)
    assert.equal(report.kind, 'text')
    assert.match(
      text(report),
      /While you were away, your task TrainTaskIdAbCdEf0123456 \(model_training\) completed/,
    )
  })

  test('the start of the evaluation is reported with the training result it acts on', () => {
    const started = [
      ...asked('Train a model called fraud-v2 for 30 epochs, then evaluate it.'),
      user(continuationPrompt(TRAINING)),
      called('start_evaluate_model', 'tu-2', { training_task_id: TRAINING }),
      answered('tu-2', `Started task ${EVALUATION} (evaluate_model). Check it with check_task_status.`),
    ]
    const report = text(decideDemoTurn(started, TOOLS_WITH_EVALUATION))
    assert.match(report, /test accuracy 0\.9125/)
    assert.match(report, new RegExp(`task ${EVALUATION} \\(evaluate_model\\)`))
  })

  test("after the evaluation, a summary of both results, with the tools' exact numbers", () => {
    const woken = [
      ...asked('Train a model called fraud-v2 for 30 epochs, then evaluate it.'),
      user(continuationPrompt(TRAINING)),
      called('start_evaluate_model', 'tu-2', { training_task_id: TRAINING }),
      answered('tu-2', `Started task ${EVALUATION} (evaluate_model).`),
      { role: 'assistant', content: [{ text: '[demo model] started the evaluation' }] },
      delivered(EVALUATION, 'evaluate_model', EVALUATED),
      user(continuationPrompt(EVALUATION)),
    ] as DemoMessage[]
    const summary = text(decideDemoTurn(woken, TOOLS_WITH_EVALUATION))
    assert.match(summary, /Summary:/)
    assert.match(summary, /test accuracy 0\.9125/)
    assert.match(summary, /accuracy 0\.8471/)
    const happened = text(
      decideDemoTurn(
        [...woken, { role: 'assistant', content: [{ text: summary }] }, user('what happened?')],
        TOOLS_WITH_EVALUATION,
      ),
    )
    assert.match(happened, /2 task result\(s\)/)
    assert.match(happened, /test accuracy 0\.9125/)
    assert.match(happened, /accuracy 0\.8471/)
  })

  test('a stopped continuation reports the result and the stop, and calls nothing', () => {
    const woken = [
      ...asked('Train a model called fraud-v2 for 30 epochs, then evaluate it.'),
      user(stoppedContinuationPrompt(TRAINING, 'depth', 3)),
    ]
    const decision = decideDemoTurn(woken, TOOLS_WITH_EVALUATION)
    assert.equal(decision.kind, 'text')
    assert.match(text(decision), /stopped acting on finished tasks on my own/)
    assert.match(text(decision), /test accuracy 0\.9125/)
  })
})

function pick(decision: ReturnType<typeof decideDemoTurn>): [string, unknown] | undefined {
  return decision.kind === 'toolUse' ? [decision.name, decision.input] : undefined
}
