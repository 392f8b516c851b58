/** Parsers of option values, kept apart from the commands' work so the command definitions load light. */
import { InvalidArgumentError } from 'commander'

/** Parses a port option: 0..65535. */
export function parsePort(value: string, name: string): number {
  const port = Number(value)
  if (!/^\d+$/.test(value) || port > 65_535)
    throw new InvalidArgumentError(`--${name} must be 0..65535, got ${value}`)
  return port
}

/** Parses a number of milliseconds: a whole number, 0 or more. */
export function parseDuration(value: string, name: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 2_147_483_647)
    throw new InvalidArgumentError(`--${name} must be a whole number of milliseconds, got ${value}`)
  return Number(value)
}
