/**
 * Owner-only storage for the data directory: it holds every memory, task result and model of the
 * local stack, so no other user of the machine may read it, whatever the umask. Directories are
 * 0700 and files 0600; one left looser by an earlier version is tightened once, and that is logged.
 */
import { chmodSync, closeSync, mkdirSync, openSync, statSync, type Stats } from 'node:fs'
import { type Logger, stderrLogger } from './logger.ts'

export const PRIVATE_DIRECTORY_MODE = 0o700
export const PRIVATE_FILE_MODE = 0o600

/** What the helpers log to when told nothing else: a changed permission should not go unseen. */
const DEFAULT_LOGGER: Logger = stderrLogger

/**
 * Creates `path` (with its missing parents) owner-only, or tightens it to 0700 when it exists with
 * more and belongs to this user; a directory of someone else's is left alone.
 */
export function ensurePrivateDirectory(path: string, logger: Logger = DEFAULT_LOGGER): void {
  mkdirSync(path, { recursive: true, mode: PRIVATE_DIRECTORY_MODE })
  tighten(path, statSync(path), PRIVATE_DIRECTORY_MODE, logger)
}

/** Creates the file `path` empty and 0600 when missing, or tightens it to 0600. */
export function ensurePrivateFile(path: string, logger: Logger = DEFAULT_LOGGER): void {
  // 'a' creates without truncating; the mode applies only to a file this call creates.
  closeSync(openSync(path, 'a', PRIVATE_FILE_MODE))
  tighten(path, statSync(path), PRIVATE_FILE_MODE, logger)
}

/** Tightens each of `paths` that exists to 0600 (a SQLite database's -wal and -shm files). */
export function restrictExistingFiles(paths: readonly string[], logger: Logger = DEFAULT_LOGGER): void {
  for (const path of paths) {
    let stats: Stats
    try {
      stats = statSync(path)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue
      throw error
    }
    tighten(path, stats, PRIVATE_FILE_MODE, logger)
  }
}

/**
 * Sets `mode` on an entry of this user's that allows more than it (a create's mode is only an upper
 * bound, the umask may take bits away but never adds any). Another user's entry is only reported.
 */
function tighten(path: string, stats: Stats, mode: number, logger: Logger): void {
  if (process.platform === 'win32') return
  const current = stats.mode & 0o777
  if ((current & ~mode) === 0) return
  if (stats.uid !== process.getuid?.()) {
    logger.log('warn', 'not ours to tighten: other users of this machine may read it', {
      path,
      mode: current.toString(8),
    })
    return
  }
  chmodSync(path, mode)
  logger.log('warn', 'tightened to owner-only', {
    path,
    from: current.toString(8),
    to: mode.toString(8),
  })
}
