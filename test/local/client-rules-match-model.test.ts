/**
 * The client's Memory rules (src/contract: id rules and limits, which the session manager, the
 * runtime and the MCP server check before they call AgentCore) against the rules derived from
 * AgentCore's published API model, which the local service enforces. A wrong client rule fails
 * here instead of hiding behind the same rule in the emulator. Differences kept on purpose are
 * listed with their reason. Two were found when this test was written and fixed in src/contract
 * (an event id length the model does not have; a record text limit of 100,000 for 16,000).
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import {
  ACTOR_ID_RULE,
  BRANCH_NAME_RULE,
  EVENT_ID_RULE,
  explainIdViolation,
  explainMetadataKeyViolation,
  explainMetadataValueViolation,
  type IdRule,
  MEMORY_ID_RULE,
  MEMORY_LIMITS,
  METADATA_KEY_MAX_LENGTH,
  METADATA_MAX_KEYS,
  METADATA_VALUE_MAX_LENGTH,
  SESSION_ID_RULE,
} from '../../src/contract/index.ts'
import type { Bounds } from '../../src/local/api-model/api-model.ts'
import {
  MEMORY_CONTROL_PLANE_MODEL as CONTROL,
  MEMORY_DATA_PLANE_MODEL as DATA,
} from '../../src/local/api-model/api-model-rules.ts'
import { seededRandom } from '../../src/shared/seeded-random.ts'

/** A string rule as the model states it, read straight from the table. */
interface ModelStringRule {
  readonly length?: Bounds
  readonly pattern?: string
}

function modelAccepts(rule: ModelStringRule, value: string): boolean {
  const count = [...value].length
  if (rule.length?.min !== undefined && count < rule.length.min) return false
  if (rule.length?.max !== undefined && count > rule.length.max) return false
  return rule.pattern === undefined || new RegExp(rule.pattern).test(value)
}

const ALPHABET = [
  ...Array.from({ length: 0x7f - 0x20 }, (_, index) => String.fromCharCode(0x20 + index)),
  '\t',
  '\n',
  '\u00e9',
  '\u00a0',
  '\u{1F600}',
]

/**
 * Strings near the valid ones: every seed, each with one to three random edits (insert, replace,
 * delete) from printable ASCII and a few others, and every character alone. Seeded, so a
 * disagreement found once is found every run.
 */
function probes(seeds: readonly string[], perSeed = 400): string[] {
  const random = seededRandom(20_261_101)
  const pick = () => ALPHABET[Math.floor(random() * ALPHABET.length)] as string
  const found = new Set<string>([...seeds, ...ALPHABET, ''])
  for (const seed of seeds) {
    for (let round = 0; round < perSeed; round++) {
      const chars = [...seed]
      const edits = 1 + Math.floor(random() * 3)
      for (let edit = 0; edit < edits; edit++) {
        const at = Math.floor(random() * (chars.length + 1))
        const kind = random()
        if (kind < 0.4) chars.splice(at, 0, pick())
        else if (kind < 0.8 && at < chars.length) chars[at] = pick()
        else chars.splice(at, 1)
      }
      found.add(chars.join(''))
    }
  }
  return [...found]
}

/** The probes on which the client's check and the model disagree (at most a few, to show). */
function disagreements(
  client: (value: string) => boolean,
  model: (value: string) => boolean,
  seeds: readonly string[],
): { value: string; client: boolean; model: boolean }[] {
  const found: { value: string; client: boolean; model: boolean }[] = []
  for (const value of probes(seeds)) {
    if (client(value) !== model(value)) found.push({ value, client: client(value), model: model(value) })
    if (found.length >= 5) break
  }
  return found
}

const idAccepts = (rule: IdRule) => (value: string) => explainIdViolation(value, rule) === undefined

const LONGEST_MEMORY_ID = `a${'b'.repeat(99)}-0123456789`

/** Each client id rule, the model shape it stands for, and ids to probe around. */
const ID_RULES: { name: string; client: IdRule; model: ModelStringRule; seeds: string[] }[] = [
  {
    name: 'ACTOR_ID_RULE',
    client: ACTOR_ID_RULE,
    model: DATA.shapes.ActorId,
    seeds: ['user:alice', 'a', 'a/b:c_d-e', 'x:y:z', 'a'.repeat(255), 'a'.repeat(256)],
  },
  {
    name: 'SESSION_ID_RULE',
    client: SESSION_ID_RULE,
    model: DATA.shapes.SessionId,
    seeds: ['session-1', 'a', 's_2', 's'.repeat(100), 's'.repeat(101)],
  },
  {
    name: 'BRANCH_NAME_RULE',
    client: BRANCH_NAME_RULE,
    model: DATA.shapes.BranchName,
    seeds: ['main', 'alt-1', 'b_2', 'b'.repeat(100), 'b'.repeat(101)],
  },
  {
    // The control plane's MemoryId: a memory's id and nothing else, as the client uses it.
    name: 'MEMORY_ID_RULE',
    client: MEMORY_ID_RULE,
    model: CONTROL.shapes.MemoryId,
    seeds: ['mem_name-abcdefghij', 'a-0123456789', LONGEST_MEMORY_ID],
  },
]

describe("the client's Memory rules agree with AgentCore's API model", () => {
  for (const rule of ID_RULES) {
    test(`${rule.name} accepts exactly the ids the model accepts`, () => {
      assert.deepEqual(
        disagreements(idAccepts(rule.client), (value) => modelAccepts(rule.model, value), rule.seeds),
        [],
      )
    })
  }

  test('ACTOR_ID_RULE, SESSION_ID_RULE and BRANCH_NAME_RULE have the model lengths', () => {
    for (const [client, model] of [
      [ACTOR_ID_RULE, DATA.shapes.ActorId],
      [SESSION_ID_RULE, DATA.shapes.SessionId],
      [BRANCH_NAME_RULE, DATA.shapes.BranchName],
    ] as const) {
      assert.deepEqual({ min: client.minLength, max: client.maxLength }, model.length)
    }
  })

  test('MEMORY_ID_RULE has the model minimum, and the longest id its pattern allows as maximum', () => {
    // On purpose: the model gives MemoryId no maximum; its pattern allows 1 + 99 + 1 + 10 characters.
    assert.equal(MEMORY_ID_RULE.minLength, CONTROL.shapes.MemoryId.length.min)
    assert.equal(MEMORY_ID_RULE.maxLength, LONGEST_MEMORY_ID.length)
    assert.ok(modelAccepts(CONTROL.shapes.MemoryId, LONGEST_MEMORY_ID))
    for (let at = 0; at <= LONGEST_MEMORY_ID.length; at++) {
      const longer = `${LONGEST_MEMORY_ID.slice(0, at)}c${LONGEST_MEMORY_ID.slice(at)}`
      assert.ok(!modelAccepts(CONTROL.shapes.MemoryId, longer), longer)
    }
  })

  test("MEMORY_ID_RULE refuses only memory ARNs among the data plane's memory ids (on purpose)", () => {
    // The data plane also takes a memory's ARN in place of its id; the client names memories by id.
    const arn = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:memory/mem_name-abcdefghij'
    assert.ok(modelAccepts(DATA.shapes.MemoryId, arn))
    const found = disagreements(
      idAccepts(MEMORY_ID_RULE),
      (value) => modelAccepts(DATA.shapes.MemoryId, value) && !value.startsWith('arn:'),
      ['mem_name-abcdefghij', LONGEST_MEMORY_ID, arn],
    )
    assert.deepEqual(found, [])
  })

  test('EVENT_ID_RULE accepts the event ids the model pattern accepts, up to its length limit', () => {
    const bounded = {
      ...DATA.shapes.EventId,
      length: { min: EVENT_ID_RULE.minLength, max: EVENT_ID_RULE.maxLength },
    }
    assert.deepEqual(
      disagreements(idAccepts(EVENT_ID_RULE), (value) => modelAccepts(bounded, value), [
        '0001700000000000#abcdef',
        '1#a',
      ]),
      [],
    )
  })

  test('EVENT_ID_RULE has no length limit the model does not have', () => {
    assert.equal('length' in DATA.shapes.EventId, false)
    assert.equal(EVENT_ID_RULE.maxLength, Number.POSITIVE_INFINITY)
  })

  test('event metadata keys and values: the same characters, lengths and key count', () => {
    const key = DATA.shapes.MetadataKey
    const value = DATA.shapes.MetadataValue.members.stringValue
    assert.equal(METADATA_KEY_MAX_LENGTH, key.length.max)
    assert.equal(METADATA_VALUE_MAX_LENGTH, value.length.max)
    assert.equal(METADATA_MAX_KEYS, DATA.shapes.MetadataMap.length.max)
    assert.deepEqual(
      disagreements(
        (candidate) => explainMetadataKeyViolation(candidate) === undefined,
        (candidate) => modelAccepts(key, candidate),
        ['stateType', 'a b', 'k.1:2/3=4+5@6-7', 'k'.repeat(128), 'k'.repeat(129)],
      ),
      [],
    )
    assert.deepEqual(
      disagreements(
        (candidate) => explainMetadataValueViolation(candidate) === undefined,
        (candidate) => modelAccepts(value, candidate),
        ['', 'SESSION', 'x y@z', 'v'.repeat(256), 'v'.repeat(257)],
      ),
      [],
    )
  })

  test('MEMORY_LIMITS match the model', () => {
    const shapes = DATA.shapes
    assert.deepEqual(
      {
        payloadItems: MEMORY_LIMITS.payloadItems,
        conversationalText: MEMORY_LIMITS.conversationalText,
        metadataFilters: MEMORY_LIMITS.metadataFilters,
        maxResults: MEMORY_LIMITS.maxResults,
        searchQuery: MEMORY_LIMITS.searchQuery,
        topK: MEMORY_LIMITS.topK,
        batchRecords: MEMORY_LIMITS.batchRecords,
        recordMetadataKeys: MEMORY_LIMITS.recordMetadataKeys,
      },
      {
        payloadItems: shapes.PayloadTypeList.length.max,
        conversationalText: shapes.Content.members.text.length.max,
        metadataFilters: shapes.EventMetadataFilterList.length.max,
        maxResults: shapes.MaxResults.range.max,
        searchQuery: shapes.SearchCriteria.members.searchQuery.length.max,
        topK: shapes.SearchCriteria.members.topK.range.max,
        batchRecords: shapes.MemoryRecordsCreateInputList.length.max,
        recordMetadataKeys: shapes.MemoryRecordMetadataMap.length.max,
      },
    )
  })

  test('MEMORY_LIMITS that differ from the model on purpose', () => {
    // defaultMaxResults: the model's default trait says 100, its documentation of the member (and
    // the SDK's) "The default value is 20"; the client pages by what the service documents.
    assert.equal(DATA.shapes.ListEventsInput.members.maxResults.default, 100)
    assert.equal(MEMORY_LIMITS.defaultMaxResults, 20)
    // maxTimestampSeconds: a Smithy timestamp has no range; the year 9999 is where AWS timestamps end.
    assert.equal(DATA.shapes.CreateEventInput.members.eventTimestamp.target, 'smithy.api#Timestamp')
    assert.equal(MEMORY_LIMITS.maxTimestampSeconds, Date.UTC(9999, 11, 31, 23, 59, 59) / 1000)
  })

  test('MEMORY_LIMITS.recordText is the model limit of a long-term record', () => {
    assert.equal(MEMORY_LIMITS.recordText, DATA.shapes.MemoryContent.members.text.length.max)
  })
})

describe('the local service checks requests against the model, never against the client rules', () => {
  test("no file of src/local imports the client's id rules or limits", () => {
    const root = new URL('../../src/local/', import.meta.url).pathname
    const importers = readdirSync(root, { recursive: true })
      .map(String)
      .filter((file) => file.endsWith('.ts'))
      .filter((file) =>
        /from '(\.\.\/)+contract\/(index|ids|limits)\.ts'/.test(readFileSync(join(root, file), 'utf8')),
      )
    assert.deepEqual(importers, [])
  })
})
