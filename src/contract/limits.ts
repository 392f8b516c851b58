/**
 * Limits of the AgentCore Memory data plane, as the service's published API model states them: the
 * client's side. The local service checks requests against the model itself (src/local/api-model),
 * so a wrong number here is caught by a test instead of being wrong on both sides.
 */
export const MEMORY_LIMITS = {
  /** Payload items of one CreateEvent. */
  payloadItems: 100,
  /** Characters of one conversational text. */
  conversationalText: 100_000,
  metadataFilters: 5,
  /** Page size of a list call (ListEvents and the like). */
  maxResults: 100,
  defaultMaxResults: 20,
  /** Characters of a RetrieveMemoryRecords search query. */
  searchQuery: 10_000,
  /** Records a RetrieveMemoryRecords call may ask for. */
  topK: 100,
  /** Characters of a long-term record's text (`MemoryContent.text`). */
  recordText: 16_000,
  batchRecords: 100,
  recordMetadataKeys: 20,
  /** Latest accepted event time: year 9999, so event ids stay plain digits. */
  maxTimestampSeconds: 253_402_300_799,
} as const
