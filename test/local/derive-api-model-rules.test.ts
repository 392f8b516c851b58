/**
 * The generator that turns a Smithy JSON AST into the local service's rule table, on a small AST of
 * our own: what it keeps, what it leaves out, and what it refuses to carry.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { deriveRules, ModelDerivationError, renderRulesModule } from '../../scripts/derive-api-model-rules.ts'

const NS = 'com.example.things'

function ast(extra: Record<string, unknown> = {}) {
  return {
    shapes: {
      [`${NS}#PutThing`]: {
        type: 'operation',
        input: { target: `${NS}#PutThingInput` },
        traits: { 'smithy.api#http': { method: 'POST', uri: '/things/{thingId}', code: 201 } },
      },
      [`${NS}#GetThing`]: {
        type: 'operation',
        input: { target: `${NS}#Unreached` },
        traits: { 'smithy.api#http': { method: 'GET', uri: '/things/{thingId}' } },
      },
      [`${NS}#Unreached`]: { type: 'structure', members: {} },
      [`${NS}#PutThingInput`]: {
        type: 'structure',
        members: {
          thingId: {
            target: `${NS}#ThingId`,
            traits: {
              'smithy.api#httpLabel': {},
              'smithy.api#required': {},
              'smithy.api#documentation': 'x',
            },
          },
          token: {
            target: 'smithy.api#String',
            traits: { 'smithy.api#httpQuery': 'clientToken', 'smithy.api#idempotencyToken': {} },
          },
          limit: {
            target: 'smithy.api#Integer',
            traits: { 'smithy.api#default': 5, 'smithy.api#range': { max: 9 } },
          },
          kinds: { target: `${NS}#Kinds` },
          ...extra,
        },
        traits: { 'smithy.api#documentation': 'not kept' },
      },
      [`${NS}#ThingId`]: {
        type: 'string',
        traits: { 'smithy.api#length': { min: 1, max: 8 }, 'smithy.api#pattern': '^[a-z]+$' },
      },
      [`${NS}#Kinds`]: {
        type: 'list',
        member: { target: `${NS}#Kind` },
        traits: { 'smithy.api#length': { max: 2 } },
      },
      [`${NS}#Kind`]: {
        type: 'enum',
        members: {
          ONE: { target: 'smithy.api#Unit', traits: { 'smithy.api#enumValue': 'one' } },
          TWO: { target: 'smithy.api#Unit', traits: { 'smithy.api#enumValue': 'two' } },
        },
      },
    },
  }
}

describe('deriving rules from a Smithy JSON AST', () => {
  test('keeps the operation binding and the traits validation needs, for shapes the input reaches only', () => {
    const rules = deriveRules(ast(), ['PutThing'])
    assert.deepEqual(rules.operations, {
      PutThing: { method: 'POST', uri: '/things/{thingId}', code: 201, input: 'PutThingInput' },
    })
    assert.deepEqual(rules.shapes, {
      Kind: { type: 'enum', values: ['one', 'two'] },
      Kinds: { type: 'list', member: 'Kind', length: { max: 2 } },
      PutThingInput: {
        type: 'structure',
        members: {
          thingId: { target: 'ThingId', required: true, label: true },
          token: { target: 'smithy.api#String', query: 'clientToken', idempotencyToken: true },
          limit: { target: 'smithy.api#Integer', default: 5, range: { max: 9 } },
          kinds: { target: 'Kinds' },
        },
      },
      ThingId: { type: 'string', length: { min: 1, max: 8 }, pattern: '^[a-z]+$' },
      'smithy.api#Integer': { type: 'integer' },
      'smithy.api#String': { type: 'string' },
    })
  })

  test('an HTTP binding without a code defaults its status to 200; an operation with no binding is refused', () => {
    assert.equal(deriveRules(ast(), ['GetThing']).operations.GetThing?.code, 200)
    const unbound = ast()
    const getThing = unbound.shapes[`${NS}#GetThing`] as { traits?: Record<string, unknown> }
    delete getThing.traits
    assert.throws(
      () => deriveRules(unbound, ['GetThing']),
      (error: unknown) => error instanceof ModelDerivationError && error.code === 'MODEL_DERIVATION_FAILED',
    )
  })

  test('refuses a trait that changes the wire it does not carry, and an operation not in the model', () => {
    const renamed = { renamed: { target: 'smithy.api#String', traits: { 'smithy.api#jsonName': 'other' } } }
    assert.throws(
      () => deriveRules(ast(renamed), ['PutThing']),
      (error: unknown) => error instanceof ModelDerivationError && error.code === 'MODEL_DERIVATION_FAILED',
    )
    assert.throws(
      () => deriveRules(ast(), ['DeleteThing']),
      (error: unknown) => error instanceof ModelDerivationError && error.code === 'MODEL_DERIVATION_FAILED',
    )
  })

  test('the module it writes names its source and holds both tables', () => {
    const rules = deriveRules(ast(), ['PutThing'])
    const source = {
      repository: 'example/models',
      commit: 'abc123',
      files: [{ path: 'things.json', sha256: 'f00' }],
    }
    const text = renderRulesModule(source, rules, rules)
    assert.match(text, /repository example\/models/)
    assert.match(text, /commit abc123/)
    assert.match(text, /things\.json \(sha256 f00\)/)
    assert.match(text, /export const MEMORY_DATA_PLANE_MODEL = \{"operations"/)
    assert.match(text, /export const MEMORY_CONTROL_PLANE_MODEL = /)
  })
})
