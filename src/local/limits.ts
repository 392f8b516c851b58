/**
 * Limits of the Memory data plane, as the local service enforces them: from AgentCore's published
 * API model (api-model/api-model-rules.ts), and the local rules where it has none; and the largest
 * request body the local service reads.
 */
import { MEMORY_DATA_PLANE_MODEL } from './api-model/api-model-rules.ts'
import { DEFAULT_MAX_RESULTS, MAX_TIMESTAMP_SECONDS } from './api-model/local-rules.ts'

const { shapes } = MEMORY_DATA_PLANE_MODEL

export const MEMORY_LIMITS = {
  /** Payload items of one CreateEvent. */
  payloadItems: shapes.PayloadTypeList.length.max,
  /** Characters of one conversational text. */
  conversationalText: shapes.Content.members.text.length.max,
  metadataFilters: shapes.EventMetadataFilterList.length.max,
  /** Page size of a list call (ListEvents and the like). */
  maxResults: shapes.MaxResults.range.max,
  defaultMaxResults: DEFAULT_MAX_RESULTS,
  /** Characters of a RetrieveMemoryRecords search query. */
  searchQuery: shapes.SearchCriteria.members.searchQuery.length.max,
  /** Records a RetrieveMemoryRecords call may ask for. */
  topK: shapes.SearchCriteria.members.topK.range.max,
  /** Characters of one long-term record's text. */
  recordText: shapes.MemoryContent.members.text.length.max,
  batchRecords: shapes.MemoryRecordsCreateInputList.length.max,
  recordMetadataKeys: shapes.MemoryRecordMetadataMap.length.max,
  /** Latest accepted event time: year 9999 (a local rule: the model has none). */
  maxTimestampSeconds: MAX_TIMESTAMP_SECONDS,
} as const

/** Largest JSON request body the local service reads: 100 payloads of 100,000 characters fit. */
export const MAX_REQUEST_BODY_BYTES = 32 * 1024 * 1024
