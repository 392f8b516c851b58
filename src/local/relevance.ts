/**
 * Lexical relevance for RetrieveMemoryRecords: TF-IDF cosine similarity between the query and each
 * record, so scores fall in [0, 1], rise with shared rare words and are 0 when nothing is shared.
 * The real service uses embeddings; this keeps the same contract (higher is more relevant, topK,
 * a threshold applied by the caller) with no model.
 */

const STOP_WORDS = new Set(
  'a an and are as at be but by for from has have i in is it its me my of on or our so that the their them they this to was we were what when which who will with you your'.split(
    ' ',
  ),
)

/** Lower-cased word stems with stop words removed. */
export function tokenize(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []
  const tokens: string[] = []
  for (const word of words) {
    if (STOP_WORDS.has(word)) continue
    tokens.push(stem(word))
  }
  return tokens
}

/** A light suffix stripper: enough that "prefers" meets "preference" only when they share a stem. */
function stem(word: string): string {
  if (word.length <= 4) return word
  for (const suffix of ['ations', 'ation', 'ings', 'ing', 'edly', 'ed', 'ies', 'es', 's']) {
    if (word.endsWith(suffix) && word.length - suffix.length >= 3) {
      return suffix === 'ies' ? `${word.slice(0, -3)}y` : word.slice(0, -suffix.length)
    }
  }
  return word
}

function termCounts(tokens: string[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1)
  return counts
}

/** Scores each document against the query; the result is parallel to `documents`. */
export function scoreDocuments(query: string, documents: readonly string[]): number[] {
  const queryCounts = termCounts(tokenize(query))
  if (queryCounts.size === 0 || documents.length === 0) return documents.map(() => 0)
  const documentCounts = documents.map((text) => termCounts(tokenize(text)))
  const documentFrequency = new Map<string, number>()
  for (const counts of documentCounts) {
    for (const term of counts.keys()) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1)
  }
  const total = documents.length
  const idf = (term: string) => Math.log(1 + (total + 1) / ((documentFrequency.get(term) ?? 0) + 1))
  const weigh = (counts: Map<string, number>) => {
    const weights = new Map<string, number>()
    let norm = 0
    for (const [term, count] of counts) {
      const weight = (1 + Math.log(count)) * idf(term)
      weights.set(term, weight)
      norm += weight * weight
    }
    return { weights, norm: Math.sqrt(norm) }
  }
  const queryVector = weigh(queryCounts)
  return documentCounts.map((counts) => {
    const documentVector = weigh(counts)
    if (documentVector.norm === 0) return 0
    let dot = 0
    for (const [term, weight] of queryVector.weights) dot += weight * (documentVector.weights.get(term) ?? 0)
    const score = dot / (queryVector.norm * documentVector.norm)
    return Math.min(1, Math.max(0, score))
  })
}
