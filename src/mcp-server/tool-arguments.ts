/** Checks a tool's arguments against its zod schema before anything starts. */
import type { z } from 'zod'
import { McpServerError } from './errors.ts'

/** The parsed arguments; INVALID_ARGUMENTS naming the first offending field otherwise. */
export function parseArguments<T>(toolName: string, schema: z.ZodType<T>, args: unknown): T {
  const parsed = schema.safeParse(args ?? {})
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]
  const pathOf = (path: readonly PropertyKey[]) => (path.length === 0 ? '(arguments)' : path.join('.'))
  const message = parsed.error.issues.map((each) => `${pathOf(each.path)}: ${each.message}`).join('; ')
  throw new McpServerError('INVALID_ARGUMENTS', `Invalid arguments for tool ${toolName}: ${message}`, {
    field: issue === undefined ? '(arguments)' : pathOf(issue.path),
  })
}
