// Lint rules: ESLint's and typescript-eslint's recommended sets, the few the house style adds, and
// the architecture's arrows (ARCHITECTURE below): a wrong import between boundaries fails `npm run lint`.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/**
 * Which boundaries (folders of src/) each boundary may import, through their index.ts. src/shared
 * holds small helpers imported file by file; a `*-defaults.ts` file (defaults defined once, light)
 * may be imported directly; `entries` are modules a boundary may import by name although they are
 * not its index, each for the reason given. The processes' entries (src/entrypoint.ts,
 * src/mcp-server-entrypoint.ts) and the CLI compose everything and are not restricted; only they
 * read the environment (src/config.ts).
 */
const ARCHITECTURE = {
  shared: { imports: [] },
  contract: { imports: ['shared'] },
  // The HTTP layer of the four servers (Hono): it knows nothing of what they serve.
  http: { imports: ['shared'] },
  telemetry: { imports: ['shared'] },
  'demo-model': { imports: ['shared'] },
  memory: { imports: ['contract', 'shared'] },
  mcp: { imports: ['contract', 'shared', 'telemetry'] },
  'runtime-client': { imports: ['contract', 'shared'] },
  agent: { imports: ['memory', 'mcp', 'demo-model', 'contract', 'shared', 'telemetry'] },
  runtime: { imports: ['agent', 'memory', 'contract', 'http', 'shared', 'telemetry'] },
  // The MCP server wakes an agent runtime when a task ends (continuations): it is that runtime's client.
  'mcp-server': {
    imports: ['runtime-client', 'memory', 'contract', 'http', 'shared', 'telemetry'],
    entries: { 'runtime-client/sigv4-invoker.ts': 'loads the AWS SDK, so it is not in the index' },
  },
  // The local AgentCore service checks requests against the service's published API model, never
  // against the client-side rules of src/contract it is meant to test.
  local: {
    imports: ['demo-model', 'http', 'shared'],
    entries: {
      'contract/runtime-error.ts': "the invoke gateway's runtime error headers",
      'memory/converse-history.ts': 'what Bedrock Converse accepts, for the local Converse endpoint',
    },
  },
  console: {
    imports: ['runtime-client', 'runtime', 'memory', 'mcp', 'contract', 'http', 'shared'],
    entries: { 'runtime-client/sigv4-invoker.ts': 'loads the AWS SDK, so it is not in the index' },
  },
}
const BOUNDARIES = Object.keys(ARCHITECTURE)
const TOP_LEVEL = ['config.ts', 'entrypoint.ts', 'mcp-server-entrypoint.ts', 'cli']

/** The no-restricted-imports patterns of one boundary. */
function importRules(name) {
  const { imports, entries = {} } = ARCHITECTURE[name]
  const forbidden = [...new Set([...BOUNDARIES, ...TOP_LEVEL])].filter(
    (other) => other !== name && other !== 'shared' && !imports.includes(other),
  )
  const patterns = forbidden.map((other) => ({
    group: [
      // A top-level module by its name, a boundary by anything in its folder.
      other.endsWith('.ts') ? `**/${other}` : `**/${other}/**`,
      ...Object.keys(entries)
        .filter((entry) => entry.startsWith(`${other}/`))
        .map((entry) => `!**/${entry}`),
    ],
    message: `src/${name} may not import src/${other} (the arrows are in eslint.config.js, ARCHITECTURE)`,
  }))
  for (const other of imports.filter((each) => each !== 'shared')) {
    patterns.push({
      group: [
        `**/${other}/**`,
        `!**/${other}/index.ts`,
        `!**/${other}/*-defaults.ts`,
        ...Object.keys(entries)
          .filter((entry) => entry.startsWith(`${other}/`))
          .map((entry) => `!**/${entry}`),
      ],
      message: `import src/${other} through its index.ts (eslint.config.js, ARCHITECTURE)`,
    })
  }
  return patterns
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.longrun/**', 'coverage/**', 'cdk.out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
      // One import per module: a second one from the same file is a sign of a move half done.
      'no-duplicate-imports': ['error', { includeExports: false, allowSeparateTypeImports: true }],
    },
  },
  ...BOUNDARIES.map((name) => ({
    files: [`src/${name}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns: importRules(name) }] },
  })),
  {
    // The console's page runs in the browser.
    files: ['src/console/page/**/*.js'],
    languageOptions: {
      globals: {
        window: 'readonly',
        document: 'readonly',
        location: 'readonly',
        fetch: 'readonly',
        crypto: 'readonly',
        URLSearchParams: 'readonly',
        TextDecoderStream: 'readonly',
        AbortController: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
  },
)
