/**
 * Loaded with `--import` into a process under test: appends the URL of every module the process
 * loads (ESM and CommonJS alike) to the file named by LONGRUN_TEST_MODULE_LOG, one per line, so a
 * test can tell what a process had loaded at a given moment.
 */
import { appendFileSync } from 'node:fs'
import { registerHooks } from 'node:module'

const log = process.env.LONGRUN_TEST_MODULE_LOG
if (log !== undefined) {
  registerHooks({
    load(url, context, nextLoad) {
      appendFileSync(log, `${url}\n`)
      return nextLoad(url, context)
    },
  })
}
