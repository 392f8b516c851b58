/** A plain JSON object (not null, not an array): the shape every request body and payload item is checked for. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
