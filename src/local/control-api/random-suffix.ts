import { randomBytes } from 'node:crypto'

const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

/** Ten random letters and digits: the suffix AgentCore puts on memory and strategy ids. */
export function randomSuffix(): string {
  let suffix = ''
  for (const byte of randomBytes(10)) suffix += ALPHANUMERIC[byte % ALPHANUMERIC.length]
  return suffix
}
