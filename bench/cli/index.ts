/**
 * Start-up of the `longrun` command, whole processes, measured side by side in one run (rounds
 * interleaved, so the machine's load falls on every row alike):
 *  - a Node process that does nothing (the floor every command pays);
 *  - `longrun --help` and `longrun invoke --help`: through bin/longrun.js as users run it (dist/
 *    when it is up to date with src/), from the TypeScript sources, and from dist/;
 *  - the time from spawning `longrun invoke "..."` to its first byte of output, and to its exit,
 *    against a running local stack (`longrun dev` in its own process, demo model), signed with
 *    SigV4 (the AWS SDK) and with a bearer token (no SDK loaded);
 *  - the same through npm: `npx longrun --help` (npm's own start included) and `npm run longrun`.
 * Median, p10 and p90 in milliseconds, and the median over the empty process's.
 * BENCH_BASELINE=<another checkout, with node_modules> adds its `--help` and `invoke` rows.
 * BENCH_QUICK=1 shrinks the run.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import { distIsFresh } from '../../scripts/dist-freshness.js'
import { NODE } from '../../test/helpers/child-process.ts'

const QUICK = process.env.BENCH_QUICK === '1'
const ROUNDS = QUICK ? 3 : 10
const BASELINE = process.env.BENCH_BASELINE
const ROOT = new URL('../..', import.meta.url).pathname
const BIN = join(ROOT, 'bin/longrun.js')
const SOURCES = join(ROOT, 'src/cli/main.ts')
const BUILT = join(ROOT, 'dist/src/cli/main.js')

/** dist/ as the sources are now (a build only when it is stale), so its rows measure this code. */
const build = spawnSync(NODE, [join(ROOT, 'scripts/build.js'), '--if-stale'], { cwd: ROOT, stdio: 'inherit' })
const distBuilt = build.status === 0
if (!distBuilt) console.log('dist/ could not be built from the sources as they are: its rows are left out')
console.log(
  `bin/longrun.js runs ${distIsFresh(ROOT) ? 'dist/ (up to date with src/)' : 'the TypeScript sources'}`,
)

const dataDir = await mkdtemp(join(tmpdir(), 'longrun-bench-cli-'))
/**
 * A user's shell: nothing of this machine's longrun or AWS configuration, and no node_modules/.bin
 * in PATH (npm scripts add it; a user's shell, which runs npx, does not).
 */
const userPath = (process.env.PATH ?? '')
  .split(':')
  .filter((dir) => !dir.endsWith('node_modules/.bin'))
  .join(':')
const env: NodeJS.ProcessEnv = { PATH: userPath, HOME: process.env.HOME, LONGRUN_DATA_DIR: dataDir }
const stack = await startStack()

/** One measured command: what it runs, and whether its time is to the first output or to its exit. */
interface Row {
  readonly label: string
  readonly command: string
  readonly args: readonly string[]
  readonly until: 'exit' | 'first output'
  readonly cwd?: string
}

const invokeArgs = ['invoke', '--new-session', 'list my tasks']
const rows: Row[] = [
  { label: "node -e '' (the floor)", command: NODE, args: ['-e', ''], until: 'exit' },
  { label: 'longrun --help (bin/longrun.js)', command: NODE, args: [BIN, '--help'], until: 'exit' },
  { label: 'longrun --help, TypeScript sources', command: NODE, args: [SOURCES, '--help'], until: 'exit' },
  ...(distBuilt
    ? [{ label: 'longrun --help, dist/', command: NODE, args: [BUILT, '--help'], until: 'exit' } as const]
    : []),
  { label: 'longrun invoke --help (bin)', command: NODE, args: [BIN, 'invoke', '--help'], until: 'exit' },
  {
    label: 'longrun invoke, first output (bin, SigV4)',
    command: NODE,
    args: [BIN, ...invokeArgs],
    until: 'first output',
  },
  { label: 'longrun invoke, exit (bin, SigV4)', command: NODE, args: [BIN, ...invokeArgs], until: 'exit' },
  {
    label: 'longrun invoke, first output (bin, bearer token)',
    command: NODE,
    args: [BIN, ...invokeArgs, '--bearer-token', 'bench-token'],
    until: 'first output',
  },
  {
    label: 'longrun invoke, first output (sources, SigV4)',
    command: NODE,
    args: [SOURCES, ...invokeArgs],
    until: 'first output',
  },
  {
    label: 'npx longrun --help (npm included)',
    command: 'npx',
    args: ['longrun', '--help'],
    until: 'exit',
    cwd: ROOT,
  },
  {
    label: 'npx longrun invoke, first output',
    command: 'npx',
    args: ['longrun', ...invokeArgs],
    until: 'first output',
    cwd: ROOT,
  },
  {
    label: 'npm run -s longrun -- --help',
    command: 'npm',
    args: ['run', '-s', 'longrun', '--', '--help'],
    until: 'exit',
    cwd: ROOT,
  },
]
if (BASELINE !== undefined) {
  const baselineBin = join(BASELINE, 'bin/longrun.js')
  rows.push(
    { label: 'baseline: longrun --help', command: NODE, args: [baselineBin, '--help'], until: 'exit' },
    {
      label: 'baseline: longrun invoke, first output',
      command: NODE,
      args: [baselineBin, ...invokeArgs],
      until: 'first output',
    },
  )
}

const samples = new Map<string, number[]>(rows.map((row) => [row.label, []]))
const failures = new Map<string, string>()
try {
  // One warm-up round (disk caches), then the measured rounds, every row once per round.
  for (let round = 0; round <= ROUNDS; round++) {
    for (const row of rows) {
      if (failures.has(row.label)) continue
      try {
        const ms = await timeProcess(row)
        if (round > 0) samples.get(row.label)?.push(ms)
      } catch (error) {
        // A row that fails (npx on a checkout whose sources do not build, say) is reported, not measured.
        failures.set(row.label, error instanceof Error ? error.message : String(error))
      }
    }
  }
} finally {
  await stack.stop()
  await rm(dataDir, { recursive: true, force: true })
}

const floor = median(samples.get(rows[0]?.label ?? '') ?? [])
console.log(`\nlongrun start-up, whole processes, ${ROUNDS} rounds interleaved (ms)`)
console.log(
  `${'command'.padEnd(52)} ${'until'.padEnd(13)} ${'median'.padStart(8)} ${'p10'.padStart(8)} ${'p90'.padStart(8)} ${'x floor'.padStart(8)}`,
)
for (const row of rows) {
  const values = samples.get(row.label) ?? []
  console.log(
    `${row.label.padEnd(52)} ${row.until.padEnd(13)} ${fmt(median(values))} ${fmt(quantile(values, 0.1))} ${fmt(quantile(values, 0.9))} ${(median(values) / floor).toFixed(1).padStart(8)}`,
  )
}
for (const [label, reason] of failures) console.log(`${label}: failed, ${reason.slice(0, 300)}`)
console.log(
  '(goals on this machine: `longrun --help` within 300 ms; the first output of a command within 2 s)',
)

/** Spawns the row's command; resolves with the milliseconds to its first output or its exit. */
async function timeProcess(row: Row): Promise<number> {
  const started = performance.now()
  const child = spawn(row.command, [...row.args], {
    cwd: row.cwd ?? dataDir,
    env: { ...env, LONGRUN_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = once(child, 'exit') as Promise<[number | null]>
  let firstOutput: number | undefined
  let output = ''
  const seen = (chunk: Buffer) => {
    firstOutput ??= performance.now() - started
    if (output.length < 2000) output += chunk.toString()
  }
  child.stdout.on('data', seen)
  child.stderr.on('data', seen)
  const [code] = await exited
  const ended = performance.now() - started
  if (code !== 0) throw new Error(`${row.label} exited with ${code}: ${output}`)
  return row.until === 'exit' ? ended : (firstOutput ?? ended)
}

/** `longrun dev` on free ports in the bench's data directory; resolves once it says it is up. */
async function startStack(): Promise<{ stop(): Promise<void> }> {
  const child: ChildProcess = spawn(
    NODE,
    [BIN, 'dev', '--port', '0', '--mcp-port', '0', '--runtime-port', '0', '--console-port', '0'],
    { cwd: dataDir, env: { ...env, LONGRUN_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'ignore'] },
  )
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line.includes('Ctrl-C')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`longrun dev exited early with ${code}`)))
  })
  return {
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGINT')
      await exited
    },
  }
}

function median(values: readonly number[]): number {
  return quantile(values, 0.5)
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const index = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))
  return sorted[index] as number
}

function fmt(ms: number): string {
  return ms.toFixed(0).padStart(8)
}
