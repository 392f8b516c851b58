/**
 * The schema builder on a small model of our own: what each kind of model rule accepts and refuses,
 * and how a refusal names its fields.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { z } from 'zod'
import type { ApiModel } from '../../src/local/api-model/api-model.ts'
import { operationInput } from '../../src/local/api-model/model-route.ts'
import { type LocalRules, ModelSchemas } from '../../src/local/api-model/model-schema.ts'
import { RequestCheck } from '../../src/local/api-model/request-check.ts'
import { AwsServiceError } from '../../src/local/errors.ts'

const MODEL = {
  operations: { PutThing: { method: 'POST', uri: '/things/{thingId}', code: 201, input: 'PutThingInput' } },
  shapes: {
    PutThingInput: {
      type: 'structure',
      members: {
        thingId: { target: 'ThingId', required: true, label: true },
        name: { target: 'Name', required: true },
        note: { target: 'smithy.api#String', length: { min: 1, max: 3 } },
        limit: { target: 'Limit', default: 7 },
        size: { target: 'Limit', default: 7 },
        tags: { target: 'Tags' },
        items: { target: 'Items' },
        choice: { target: 'Choice' },
        kind: { target: 'Kind' },
        at: { target: 'smithy.api#Timestamp' },
        token: { target: 'smithy.api#String', query: 'token' },
        filter: { target: 'Filter' },
      },
    },
    ThingId: { type: 'string', length: { min: 2, max: 5 }, pattern: '^[a-z]+$' },
    Name: { type: 'string', length: { min: 1, max: 4 } },
    Limit: { type: 'integer', range: { min: 1, max: 10 } },
    Tags: { type: 'map', key: 'TagKey', value: 'smithy.api#String', length: { max: 2 } },
    TagKey: { type: 'string', length: { min: 1, max: 9 }, pattern: '^[a-z_]+$' },
    Items: { type: 'list', member: 'Name', length: { max: 2 } },
    Choice: { type: 'union', members: { a: { target: 'Name' }, b: { target: 'Limit' } } },
    Kind: { type: 'enum', values: ['ONE', 'TWO'] },
    Filter: {
      type: 'structure',
      members: { op: { target: 'Kind', required: true }, value: { target: 'Name' } },
    },
    'smithy.api#String': { type: 'string' },
    'smithy.api#Timestamp': { type: 'timestamp' },
  },
} as const satisfies ApiModel

const LOCAL: LocalRules = {
  timestamp: z.number().max(100),
  defaults: { 'PutThingInput.size': 3 },
  members: { 'PutThingInput.token': z.string().length(4) },
  unionMembers: { Choice: { c: z.boolean() } },
  refinements: {
    Filter: (filter) =>
      filter.op === 'TWO' && filter.value === undefined ? [{ path: ['value'], message: 'needed' }] : [],
  },
}

const schema = new ModelSchemas({ model: MODEL, local: LOCAL }).input('PutThing')

function parse(raw: Record<string, unknown>) {
  const check = new RequestCheck()
  return check.valid(check.parse(schema, { thingId: 'abc', name: 'n', ...raw }))
}

/** The fields a refused input names, in order. */
function refusedFields(raw: Record<string, unknown>): string[] {
  try {
    parse(raw)
  } catch (error) {
    assert.ok(error instanceof AwsServiceError)
    assert.equal(error.code, 'ValidationException')
    assert.equal(error.status, 400)
    return (error.fieldList ?? []).map((field) => field.name)
  }
  assert.fail(`expected ${JSON.stringify(raw)} to be refused`)
}

describe('schemas built from a model', () => {
  test('required members are named when missing or null, all in one refusal', () => {
    assert.deepEqual(refusedFields({ thingId: undefined, name: null }), ['thingId', 'name'])
  })

  test('null is an absent member, and an absent member takes its default (a local one first)', () => {
    const input = parse({ note: null, limit: null })
    const limit: number = input.limit
    assert.equal(limit, 7)
    assert.equal(input.size, 3)
    assert.equal(input.note, undefined)
  })

  test('lengths count Unicode characters, and a pattern is matched on a string of valid length', () => {
    assert.equal(parse({ name: '\u{1F600}'.repeat(4) }).name.length, 8)
    assert.deepEqual(refusedFields({ name: 'abcde' }), ['name'])
    assert.deepEqual(refusedFields({ thingId: 'AB' }), ['thingId'])
    assert.deepEqual(refusedFields({ note: '' }), ['note'])
  })

  test('a list over its size is named as a whole; an item is named by its index', () => {
    assert.deepEqual(refusedFields({ items: ['far too long', 'x', 'y'] }), ['items'])
    assert.deepEqual(refusedFields({ items: ['ok', 'far too long'] }), ['items[1]'])
  })

  test('a union sets exactly one member, a local one included', () => {
    assert.deepEqual(refusedFields({ choice: { a: 'x', b: 1 } }), ['choice'])
    assert.deepEqual(refusedFields({ choice: {} }), ['choice'])
    assert.deepEqual(refusedFields({ choice: { z: 1 } }), ['choice'])
    assert.deepEqual(parse({ choice: { c: true } }).choice, { c: true })
    assert.equal(parse({ choice: { a: 'x', b: null } }).choice?.a, 'x')
  })

  test('a map checks its size, its keys and its values, and keeps a __proto__ key as data', () => {
    assert.deepEqual(refusedFields({ tags: { a: '1', b: '2', c: '3' } }), ['tags'])
    assert.deepEqual(refusedFields({ tags: { BAD: '1', good: 2 } }), ['tags.BAD', 'tags.good'])
    const tags = parse({ tags: JSON.parse('{"__proto__":"kept"}') as Record<string, unknown> }).tags
    assert.ok(tags && Object.hasOwn(tags, '__proto__'))
    assert.equal(Object.getPrototypeOf(tags), Object.prototype)
  })

  test('enums, ranges and integers are checked', () => {
    assert.deepEqual(refusedFields({ kind: 'THREE', limit: 11, size: 1.5 }), ['limit', 'size', 'kind'])
  })

  test('local rules apply: timestamps, a member rule, a rule across members', () => {
    assert.deepEqual(refusedFields({ at: 101, token: 'abc' }), ['at', 'token'])
    assert.deepEqual(refusedFields({ filter: { op: 'TWO' } }), ['filter.value'])
    assert.equal(parse({ filter: { op: 'ONE' } }).filter?.op, 'ONE')
  })

  test("an operation's input is gathered from its label, its query parameter and its body members only", () => {
    const raw = operationInput(MODEL, 'PutThing', {
      params: { thingId: 'abc' },
      query: new URLSearchParams({ token: 'tttt' }),
      headers: {},
      body: { name: 'n', thingId: 'other', token: 'body', unknown: 1 },
    })
    assert.deepEqual(raw, { thingId: 'abc', name: 'n', token: 'tttt' })
  })
})
