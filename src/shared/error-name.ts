/** How a failure is named in log lines and kept reasons: an AWS error by its name, anything else by its message. */
export function errorName(error: unknown): string {
  if (error instanceof Error) return error.name === 'Error' ? error.message : error.name
  return String(error)
}
