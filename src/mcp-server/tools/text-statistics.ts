/**
 * `text_statistics`: word counts and document-length statistics over a provided text or a
 * generated corpus, processed in chunks with progress after each and a turn of the event loop
 * between them.
 */
import { setImmediate } from 'node:timers/promises'
import { z } from 'zod'
import { defineLongRunningTool, type LongRunningTool } from '../long-running-tool.ts'
import { seededRandom } from './random.ts'

/** Largest generated corpus: a sane bound on the work one call can ask for. */
const MAX_DOCUMENTS = 500_000

/** Longest stretch of work between two turns of the event loop. */
const YIELD_AFTER_MS = 20

const VOCABULARY = (
  'the of and to in is that it was for on are with as be at by this have from or had not but what all ' +
  'were when we there can an your which their said if do will each about how up out them then she many ' +
  'some so these would other into has more her two like him see time could no make than first been its ' +
  'who now people my made over did down only way find use may water long little very after words called ' +
  'just where most know get through back much before go good new write our used me man too any day same ' +
  'right look think also around another came come work three word must because does part even place well'
).split(' ')

/** Builds the `text_statistics` tool. */
export function textStatisticsTool(): LongRunningTool {
  return defineLongRunningTool({
    name: 'text_statistics',
    description:
      'Counts words and measures document lengths over a text (documents separated by blank lines) or, without ' +
      'text, over a generated corpus of the given number of documents; returns totals, length statistics and top words.',
    input: z.object({
      text: z
        .string()
        .max(2_000_000)
        .optional()
        .describe('Text to analyse; documents separated by blank lines'),
      documents: z
        .number()
        .int()
        .min(1)
        .max(MAX_DOCUMENTS)
        .default(20_000)
        .describe('Generated documents when no text'),
      chunk_size: z
        .number()
        .int()
        .min(1)
        .max(100_000)
        .default(500)
        .describe('Documents per chunk between progress reports'),
      seed: z
        .number()
        .int()
        .min(0)
        .max(2 ** 31)
        .default(1)
        .describe('Seed of the generated corpus'),
    }),
    // Cheap to submit again; shows the 'fail' policy next to model_training's 'rerun'.
    onRestart: 'fail',
    mode: 'both',
    async run(input, ctx) {
      // The generated corpus is produced one document at a time, never held whole: memory stays
      // bounded by the vocabulary, whatever `documents` asks for.
      const given =
        input.text === undefined
          ? undefined
          : input.text
              .split(/\n\s*\n/)
              .map((document) => document.trim())
              .filter((document) => document.length > 0)
      const total = given === undefined ? input.documents : given.length
      const nextDocument =
        given === undefined ? corpusGenerator(input.seed) : (index: number) => given[index] as string
      const counts = new Map<string, number>()
      let words = 0
      let characters = 0
      let mean = 0
      let squares = 0
      let shortest = Number.POSITIVE_INFINITY
      let longest = 0
      let lastYield = performance.now()
      for (let start = 0; start < total; start += input.chunk_size) {
        ctx.signal.throwIfAborted()
        const end = Math.min(total, start + input.chunk_size)
        for (let index = start; index < end; index += 1) {
          // A large chunk must not hold the event loop (no /ping, no heartbeats, no requests):
          // yield whenever one stretch of work passed YIELD_AFTER_MS.
          if ((index & 127) === 0 && performance.now() - lastYield > YIELD_AFTER_MS) {
            await setImmediate()
            ctx.signal.throwIfAborted()
            lastYield = performance.now()
          }
          const tokens =
            nextDocument(index)
              .toLowerCase()
              .match(/[\p{L}\p{N}']+/gu) ?? []
          for (const token of tokens) {
            counts.set(token, (counts.get(token) ?? 0) + 1)
            characters += token.length
          }
          words += tokens.length
          // Welford's running mean and variance of document length.
          const seen = index + 1
          const delta = tokens.length - mean
          mean += delta / seen
          squares += delta * (tokens.length - mean)
          shortest = Math.min(shortest, tokens.length)
          longest = Math.max(longest, tokens.length)
        }
        ctx.progress(end, total, `${end}/${total} documents, ${counts.size} distinct words`)
        await setImmediate()
        lastYield = performance.now()
      }
      const topWords = [...counts.entries()]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, 10)
        .map(([word, count]) => ({ word, count }))
      return {
        documents: total,
        words,
        distinct_words: counts.size,
        mean_words_per_document: mean,
        stddev_words_per_document: total > 1 ? Math.sqrt(squares / (total - 1)) : 0,
        shortest_document: total === 0 ? 0 : shortest,
        longest_document: longest,
        mean_word_length: words === 0 ? 0 : characters / words,
        top_words: topWords,
      }
    },
  })
}

/** Documents of 5-80 words drawn from a Zipf-like distribution over the vocabulary, made one by one in order. */
function corpusGenerator(seed: number): (index: number) => string {
  const random = seededRandom(seed)
  const weights = VOCABULARY.map((_, rank) => 1 / (rank + 1))
  const cumulative: number[] = []
  let sum = 0
  for (const weight of weights) {
    sum += weight
    cumulative.push(sum)
  }
  const pick = () => {
    const target = random() * sum
    let low = 0
    let high = cumulative.length - 1
    while (low < high) {
      const middle = (low + high) >> 1
      if ((cumulative[middle] as number) < target) low = middle + 1
      else high = middle
    }
    return VOCABULARY[low] as string
  }
  // Called with index 0, 1, 2, ... in order: each call draws the next document of the sequence.
  return () => Array.from({ length: 5 + Math.floor(random() * 76) }, pick).join(' ')
}
