import { setTimeout as delay } from 'node:timers/promises'
import { AwsServiceError } from './errors.ts'
import { isRecord } from '../shared/is-record.ts'

/**
 * Faults to inject into one operation. Rates are probabilities in [0, 1]; `*Next` counts fail the
 * next N calls deterministically. A lost response commits the write and then answers 500, the
 * fault that idempotency tokens exist for.
 */
export interface OperationFaults {
  readonly throttleRate?: number
  readonly errorRate?: number
  readonly latencyMs?: number
  readonly throttleNext?: number
  readonly errorNext?: number
  readonly loseResponseRate?: number
  readonly loseResponseNext?: number
}

/** Faults by AWS operation name (`CreateEvent`, `ListEvents`, ...); `*` applies to every operation. */
export type FaultConfig = Readonly<Record<string, OperationFaults>>

/** Calls seen by the service, per operation: what benchmarks count and tests assert. */
export interface OperationStats {
  calls: number
  throttled: number
  failed: number
  responsesLost: number
}

export interface FaultInjectorConfig {
  readonly faults?: FaultConfig
  /** Random source in [0, 1); inject a seeded one for repeatable runs. */
  readonly random?: () => number
}

const FAULT_KEYS = new Set([
  'throttleRate',
  'errorRate',
  'latencyMs',
  'throttleNext',
  'errorNext',
  'loseResponseRate',
  'loseResponseNext',
])

/**
 * Validates a fault configuration from an untrusted source (the admin endpoint, a config file).
 * With `operations`, an operation name outside them (and `*`) is refused: a misspelt name would
 * otherwise inject nothing and look accepted.
 */
export function parseFaultConfig(input: unknown, operations?: ReadonlySet<string>): FaultConfig {
  if (!isRecord(input)) {
    throw new AwsServiceError('ValidationException', 'faults must be an object keyed by operation name')
  }
  if (operations !== undefined) {
    const unknown = Object.keys(input).filter((name) => name !== '*' && !operations.has(name))
    if (unknown.length > 0) {
      const names = unknown.map((name) => JSON.stringify(name.slice(0, 64))).join(', ')
      throw new AwsServiceError(
        'ValidationException',
        `faults name unknown operations: ${names}; known: *, ${[...operations].sort().join(', ')}`,
      )
    }
  }
  const result: Record<string, OperationFaults> = {}
  for (const [operation, faults] of Object.entries(input)) {
    if (!isRecord(faults)) {
      throw new AwsServiceError('ValidationException', `faults.${operation} must be an object`)
    }
    for (const [key, value] of Object.entries(faults)) {
      if (!FAULT_KEYS.has(key))
        throw new AwsServiceError('ValidationException', `faults.${operation}.${key} is unknown`)
      const isRate = key.endsWith('Rate')
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (isRate && value > 1)) {
        throw new AwsServiceError(
          'ValidationException',
          `faults.${operation}.${key} must be a number ${isRate ? 'from 0 to 1' : 'of 0 or more'}`,
        )
      }
    }
    result[operation] = faults as OperationFaults
  }
  return result
}

/** Decides, per call, whether an operation is slowed, throttled, failed or loses its response. */
export class FaultInjector {
  private faults: Record<string, OperationFaults & { throttleNext?: number; errorNext?: number }> = {}
  private readonly random: () => number
  private readonly stats = new Map<string, OperationStats>()

  constructor(config: FaultInjectorConfig = {}) {
    this.random = config.random ?? Math.random
    this.set(config.faults ?? {})
  }

  /** Replaces the whole fault configuration. */
  set(faults: FaultConfig): void {
    this.faults = Object.fromEntries(Object.entries(faults).map(([key, value]) => [key, { ...value }]))
  }

  get(): FaultConfig {
    return structuredClone(this.faults)
  }

  /** Call counts per operation since start or the last reset. */
  counts(): Record<string, OperationStats> {
    return Object.fromEntries([...this.stats].map(([key, value]) => [key, { ...value }]))
  }

  resetCounts(): void {
    this.stats.clear()
  }

  private statsFor(operation: string): OperationStats {
    let stats = this.stats.get(operation)
    if (!stats) {
      stats = { calls: 0, throttled: 0, failed: 0, responsesLost: 0 }
      this.stats.set(operation, stats)
    }
    return stats
  }

  /** Runs before the operation does anything; throws the injected error, if any. */
  async before(operation: string): Promise<void> {
    const stats = this.statsFor(operation)
    stats.calls += 1
    const own = this.faults[operation]
    const shared = this.faults['*']
    const latency = own?.latencyMs ?? shared?.latencyMs ?? 0
    if (latency > 0) await delay(latency)
    if (
      this.take(own, 'throttleNext') ||
      this.take(shared, 'throttleNext') ||
      this.roll(own, shared, 'throttleRate')
    ) {
      stats.throttled += 1
      throw new AwsServiceError('ThrottlingException', `Rate exceeded for ${operation} (injected fault)`)
    }
    if (
      this.take(own, 'errorNext') ||
      this.take(shared, 'errorNext') ||
      this.roll(own, shared, 'errorRate')
    ) {
      stats.failed += 1
      throw new AwsServiceError(
        'InternalServerException',
        `Internal failure in ${operation} (injected fault)`,
      )
    }
  }

  /** Runs after a successful operation; true when its response is to be lost. */
  loseResponse(operation: string): boolean {
    const own = this.faults[operation]
    const shared = this.faults['*']
    const lost =
      this.take(own, 'loseResponseNext') ||
      this.take(shared, 'loseResponseNext') ||
      this.roll(own, shared, 'loseResponseRate')
    if (lost) this.statsFor(operation).responsesLost += 1
    return lost
  }

  private take(
    faults: { throttleNext?: number; errorNext?: number; loseResponseNext?: number } | undefined,
    key: 'throttleNext' | 'errorNext' | 'loseResponseNext',
  ): boolean {
    const left = faults?.[key] ?? 0
    if (left <= 0 || !faults) return false
    faults[key] = left - 1
    return true
  }

  private roll(
    own: OperationFaults | undefined,
    shared: OperationFaults | undefined,
    key: 'throttleRate' | 'errorRate' | 'loseResponseRate',
  ): boolean {
    const rate = own?.[key] ?? shared?.[key] ?? 0
    return rate > 0 && this.random() < rate
  }
}
