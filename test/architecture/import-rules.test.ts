/**
 * The architecture's arrows are lint rules (eslint.config.js, ARCHITECTURE): a wrong import between
 * boundaries fails `npm run lint`. Each case lints one line as if it sat in a file of the boundary.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ESLint } from 'eslint'

const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname })

/** The no-restricted-imports messages `line` gets in a file at `path`. */
async function restrictions(path: string, line: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${line}\nexport const used = value\n`, { filePath: path })
  return (result?.messages ?? [])
    .filter((message) => message.ruleId === 'no-restricted-imports')
    .map((message) => message.message)
}

describe('the arrows between boundaries are lint rules', () => {
  const refused: [string, string][] = [
    ['src/console/probe.ts', "import { value } from '../cli/main.ts'"],
    ['src/agent/probe.ts', "import { value } from '../config.ts'"],
    ['src/runtime/probe.ts', "import { value } from '../entrypoint.ts'"],
    ['src/mcp-server/probe.ts', "import { value } from '../mcp/index.ts'"],
    ['src/mcp-server/tools/probe.ts', "import { value } from '../../runtime/index.ts'"],
    ['src/runtime/probe.ts', "import { value } from '../memory/session-reader.ts'"],
    ['src/memory/probe.ts', "import { value } from '../agent/index.ts'"],
    ['src/local/probe.ts', "import { value } from '../contract/index.ts'"],
    ['src/contract/probe.ts', "import { value } from '../memory/index.ts'"],
    ['src/http/probe.ts', "import { value } from '../runtime/index.ts'"],
    ['src/agent/probe.ts', "import { value } from '../http/index.ts'"],
    ['src/console/probe.ts', "import { value } from '../http/read-body.ts'"],
  ]
  for (const [path, line] of refused) {
    test(`refused in ${path}: ${line}`, async () => {
      assert.equal((await restrictions(path, line)).length, 1)
    })
  }

  const allowed: [string, string][] = [
    ['src/runtime/probe.ts', "import { value } from '../memory/index.ts'"],
    ['src/runtime/probe.ts', "import { value } from '../shared/logger.ts'"],
    ['src/agent/probe.ts', "import { value } from '../memory/session-manager-defaults.ts'"],
    ['src/local/probe.ts', "import { value } from '../memory/converse-history.ts'"],
    ['src/console/probe.ts', "import { value } from '../runtime-client/sigv4-invoker.ts'"],
    ['src/cli/probe.ts', "import { value } from '../config.ts'"],
    ['src/mcp-server-entrypoint.ts', "import { value } from './config.ts'"],
    ['src/local/probe.ts', "import { value } from '../http/index.ts'"],
    ['src/http/probe.ts', "import { value } from '../shared/logger.ts'"],
  ]
  for (const [path, line] of allowed) {
    test(`allowed in ${path}: ${line}`, async () => {
      assert.deepEqual(await restrictions(path, line), [])
    })
  }
})
