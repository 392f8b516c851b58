/**
 * `npm run bench`: runs every benchmark under bench/ one after another, each in its own process so
 * one's heap and timers do not disturb the next. `BENCH_QUICK=1` shrinks every benchmark.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('.', import.meta.url).pathname
const only = process.argv.slice(2)
const benches = readdirSync(root, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(root, entry.name, 'index.ts')))
  .map((entry) => entry.name)
  .filter((name) => only.length === 0 || only.includes(name))
  .sort()

let failed = 0
for (const name of benches) {
  console.log(`\n=== bench/${name} ===`)
  const result = spawnSync(
    process.execPath,
    ['--disable-warning=ExperimentalWarning', join(root, name, 'index.ts')],
    {
      stdio: 'inherit',
    },
  )
  if (result.status !== 0) {
    failed += 1
    console.log(`bench/${name} exited with ${result.status ?? result.signal}`)
  }
}
process.exitCode = failed === 0 ? 0 : 1
