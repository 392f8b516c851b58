/** Limits of the Memory data plane (FACTS section 3). */
export const MEMORY_LIMITS = {
  payloadItems: 100,
  conversationalText: 100_000,
  metadataFilters: 5,
  maxResults: 100,
  defaultMaxResults: 20,
  searchQuery: 10_000,
  recordText: 100_000,
  batchRecords: 100,
  recordMetadataKeys: 20,
  /** Latest accepted event time: year 9999, so event ids stay plain digits. */
  maxTimestampSeconds: 253_402_300_799,
} as const
