// Whether dist/ was built from the sources as they are now. `npm run build` stamps dist/ with the
// time it started; dist/ is fresh while nothing under src/ (a file, or a directory, whose time
// changes when a file in it is added, removed or renamed) nor a tsconfig file changed since.
// Plain JavaScript: bin/longrun.js asks before any TypeScript is loaded.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** The stamp file, holding the build's start time in milliseconds since the epoch. */
const STAMP = join('dist', '.built-from-sources')
const CONFIG_FILES = ['tsconfig.json', 'tsconfig.build.json']

/**
 * The latest change under `root`'s src/ and its tsconfig files, in milliseconds since the epoch.
 * @param {string} root
 * @returns {number}
 */
export function newestSourceChange(root) {
  const src = join(root, 'src')
  let newest = statSync(src).mtimeMs
  for (const entry of readdirSync(src, { recursive: true })) {
    newest = Math.max(newest, statSync(join(src, String(entry))).mtimeMs)
  }
  for (const file of CONFIG_FILES) newest = Math.max(newest, statSync(join(root, file)).mtimeMs)
  return newest
}

/**
 * True when dist/ was built, whole, after the last change to the sources.
 * @param {string} root
 * @returns {boolean}
 */
export function distIsFresh(root) {
  let builtAt
  try {
    builtAt = Number(readFileSync(join(root, STAMP), 'utf8'))
  } catch {
    return false
  }
  try {
    return Number.isFinite(builtAt) && newestSourceChange(root) < builtAt
  } catch {
    // A file removed while the sources were looked at: they are changing, so dist/ is not theirs.
    return false
  }
}

/**
 * Records a finished build that started at `startedAt` (a source changed during it keeps dist/ stale).
 * @param {string} root
 * @param {number} startedAt
 */
export function stampDist(root, startedAt) {
  writeFileSync(join(root, STAMP), `${startedAt}\n`)
}
