/**
 * A task's result as values a person reads at a glance (a training's accuracy, loss, epochs, where
 * the model was saved) rather than a JSON document: the fields of a JSON object, nested ones kept
 * as JSON text. The raw result stays available beside them.
 */
import { isRecord } from '../shared/is-record.ts'

/** One value of a result, as shown. */
export type ResultValue = string | number | boolean | null

/** A result's fields by name, in the order the result gives them. */
export type ResultValues = Readonly<Record<string, ResultValue>>

/** A result the MCP server wrote into a session when a task ended. */
export interface DeliveredResult {
  readonly taskId: string
  readonly tool: string
  readonly status: 'completed' | 'failed' | 'cancelled'
  /** Absent when the result is not a JSON object (a failure message, a truncated result)... */
  readonly values?: ResultValues
  /** ...which is then given as its text. */
  readonly body?: string
}

/** The values of a result object, or undefined when it is not a JSON object with fields. */
export function valuesOf(value: unknown): ResultValues | undefined {
  if (!isRecord(value) || Object.keys(value).length === 0) return undefined
  const values: Record<string, ResultValue> = {}
  for (const [key, field] of Object.entries(value))
    values[key] =
      field === null || typeof field === 'string' || typeof field === 'number' || typeof field === 'boolean'
        ? field
        : JSON.stringify(field)
  return values
}

/** The values of a result given as text: a JSON object's fields, else undefined. */
export function valuesOfText(text: string): ResultValues | undefined {
  try {
    return valuesOf(JSON.parse(text))
  } catch {
    return undefined
  }
}

/** How the MCP server words a task's result in memory (its memory-event text). */
const DELIVERED =
  /^Long-running task (\S+) \(tool (\S+)\) (completed|failed|cancelled)\.\nResult:\n([\s\S]*)$/

/** The task result a memory event's text holds, or undefined when it holds none. */
export function deliveredResultOf(text: string): DeliveredResult | undefined {
  const match = DELIVERED.exec(text)
  if (match === null) return undefined
  const [, taskId = '', tool = '', status, body = ''] = match
  const values = valuesOfText(body)
  return {
    taskId,
    tool,
    status: status as DeliveredResult['status'],
    ...(values !== undefined ? { values } : { body }),
  }
}
