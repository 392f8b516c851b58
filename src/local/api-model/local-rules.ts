/**
 * The rules the local service keeps where AgentCore's published API model has none, or where the
 * model contradicts its own documentation. Everything else it checks comes from the model
 * (api-model-rules.ts). Each rule says why it is here.
 */
import { z } from 'zod'
import type { LocalRules } from './model-schema.ts'
import { stringSchema } from './model-schema.ts'

/**
 * Latest accepted timestamp, 9999-12-31T23:59:59Z. Not in the model (a Smithy timestamp has no
 * range); AWS's epoch-seconds timestamps stop at the year 9999, and so an event id's millisecond
 * prefix stays 13 digits and sorts as a number.
 */
export const MAX_TIMESTAMP_SECONDS = 253_402_300_799

/** REST-JSON timestamps: epoch seconds with a fraction, from 1970 to {@link MAX_TIMESTAMP_SECONDS}. */
const TIMESTAMP = z.number().check((context) => {
  if (context.value < 0 || context.value > MAX_TIMESTAMP_SECONDS) {
    context.issues.push({
      code: 'custom',
      message: 'must be a timestamp in seconds since the epoch, before the year 10000',
      input: context.value,
    })
  }
})

/**
 * Page size when a list call names none. The model's `default` trait says 100 while its own
 * documentation of the same member (and the AWS SDK's) says "The default value is 20" (ListMemories:
 * 10): the documented value is what a caller is told, so it is the one kept.
 */
export const DEFAULT_MAX_RESULTS = 20
export const DEFAULT_MAX_RESULTS_LIST_MEMORIES = 10

/**
 * The data plane's client tokens: the model puts no length on them (the control plane's allow 500).
 * Each token is stored for a day, so the local service bounds it; the AWS SDK's own are 36.
 */
const DATA_PLANE_CLIENT_TOKEN = stringSchema({ min: 1, max: 256 }, undefined)

/**
 * CreateEvent's `json` payload member: the AWS SDK (3.1141) sends it, the model revision the rules
 * come from does not list it yet. Its `content` is any JSON value but null.
 */
const JSON_PAYLOAD = z.object({
  content: z.unknown().check((context) => {
    if (context.value === undefined || context.value === null)
      context.issues.push({ code: 'custom', message: 'is required', input: context.value })
  }),
})

/** What the local Memory data plane adds to the model's rules. */
export const DATA_PLANE_LOCAL_RULES: LocalRules = {
  timestamp: TIMESTAMP,
  members: {
    'CreateEventInput.clientToken': DATA_PLANE_CLIENT_TOKEN,
    'BatchCreateMemoryRecordsInput.clientToken': DATA_PLANE_CLIENT_TOKEN,
  },
  defaults: {
    'ListEventsInput.maxResults': DEFAULT_MAX_RESULTS,
    'ListSessionsInput.maxResults': DEFAULT_MAX_RESULTS,
    'ListActorsInput.maxResults': DEFAULT_MAX_RESULTS,
    'ListMemoryRecordsInput.maxResults': DEFAULT_MAX_RESULTS,
    'RetrieveMemoryRecordsInput.maxResults': DEFAULT_MAX_RESULTS,
  },
  unionMembers: { PayloadType: { json: JSON_PAYLOAD } },
  refinements: {
    // The model leaves `right` optional for every operator; EQUALS_TO without it compares with nothing.
    EventMetadataFilterExpression: (expression) =>
      expression.operator === 'EQUALS_TO' && expression.right === undefined
        ? [{ path: ['right'], message: 'is required when operator is EQUALS_TO' }]
        : [],
  },
}

/** What the local Memory control plane adds to the model's rules. */
export const CONTROL_PLANE_LOCAL_RULES: LocalRules = {
  timestamp: TIMESTAMP,
  defaults: { 'ListMemoriesInput.maxResults': DEFAULT_MAX_RESULTS_LIST_MEMORIES },
}
