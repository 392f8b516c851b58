export { type AwsErrorType, AwsServiceError, type ValidationField } from './errors.ts'
export {
  type FaultConfig,
  FaultInjector,
  type OperationFaults,
  type OperationStats,
  parseFaultConfig,
} from './faults.ts'
export { type RuntimeTarget } from './invoke-gateway.ts'
export { newRuntimeSessionId } from '../shared/runtime-session-id.ts'
export { type LocalAgentCoreConfig, LocalAgentCoreService } from './local-agentcore-service.ts'
export { MEMORY_LIMITS } from './limits.ts'
export type { MemoryStore, StoredEvent, StoredMemory, StoredRecord } from './memory-store.ts'
export { DEFAULT_IDEMPOTENCY_WINDOW_MS, MemoryStoreConfigError } from './memory-store.ts'
export { scoreDocuments, tokenize } from './relevance.ts'
export { seededRandom } from '../shared/seeded-random.ts'
export { SqliteMemoryStore, type SqliteMemoryStoreConfig } from './sqlite-memory-store.ts'
