/** A call the MCP server's task tools refused (`isError`), with the tools' own error code. */
export class TaskToolError extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.name = 'TaskToolError'
    this.code = code
  }
}

/** The refusal a task tool answered with, as a {@link TaskToolError}. */
export function taskToolError(result: Record<string, unknown>): TaskToolError {
  const error = (result.structuredContent as { error?: { code?: string; message?: string } } | undefined)
    ?.error
  const text = (result.content as { text?: string }[] | undefined)?.[0]?.text
  return new TaskToolError(error?.code ?? 'TOOL_ERROR', error?.message ?? text ?? 'the task tool refused')
}
