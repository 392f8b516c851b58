/**
 * `longrun chat` in a real pseudo-terminal (util-linux `script` gives it one), against `longrun dev`
 * with the demo model: a prompt, a streamed answer with the task id, the notice when the task's
 * result lands in the session, the agent's continuation (it acting on the result on its own) shown
 * as it happens under a "while you were away" heading, a second turn that reads the result, Ctrl-C
 * during an answer (the turn goes on and is stored), and Ctrl-C at the prompt to leave. The stack
 * lets one continuation run in a chain (`RUNTIME_CONTINUATION_DEPTH=1`), so a chain of two shows a
 * continuation that ran and one a limit stopped, both while the chat sits at its prompt.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { after, before, test } from 'node:test'
import { NODE } from '../helpers/child-process.ts'
import { CLI, type DevStack, runCli, startDevStack } from '../helpers/dev-stack.ts'
import { waitFor } from '../helpers/mcp-server.ts'

let dev: DevStack
before(async () => {
  dev = await startDevStack(150, { RUNTIME_CONTINUATION_DEPTH: '1' })
})
after(async () => {
  await dev?.stop()
})

/** `text` as a regular expression that matches it literally. */
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** A line break on the terminal (the pseudo-terminal writes \r\n). */
const EOL = '\\r?\\n'

/** `longrun chat --new-session` in a pseudo-terminal; what it shows is kept as one string. */
function startChat() {
  const process = spawn('script', ['-qfec', `${NODE} ${CLI} chat --new-session`, '/dev/null'], {
    cwd: dev.dataDir,
    env: { ...dev.env, TERM: 'dumb' },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let screen = ''
  process.stdout.on('data', (chunk: Buffer) => {
    screen += chunk.toString()
  })
  return {
    process,
    screen: () => screen,
    /** Waits until what the terminal shows from `from` on matches `pattern`; the match. */
    seen: (pattern: RegExp, what: string, from = 0) =>
      waitFor(
        () => pattern.exec(screen.slice(from)) ?? undefined,
        30_000,
        `${what}; the terminal showed:\n${screen}`,
      ),
    /** Types a line. */
    send: (line: string) => process.stdin.write(`${line}\r`),
    /** The runtime session the chat said it uses. */
    session: () => /session (\S+) \(actor /.exec(screen)?.[1],
    /** Ctrl-C at the prompt: resolves with the exit code. */
    async leave(): Promise<number | null> {
      process.stdin.write('\u0003')
      const [code] = (await once(process, 'exit')) as [number | null]
      return code
    },
  }
}

test('longrun chat: streamed answers, task ids, a notice when a result arrives, the continuation it woke, Ctrl-C stops watching a turn that is still stored, Ctrl-C to leave', async () => {
  const chat = startChat()
  const { seen } = chat
  try {
    await seen(/you> /, 'the prompt')
    chat.send('train a model called chat-demo for 8 epochs')
    const [, taskId = ''] = await seen(/task (\S+) started \(start_model_training\)/, 'the task id')
    await seen(/\[demo model\] Started task \S+ \(model_training\)/, 'the streamed answer')
    await seen(
      new RegExp(
        `notice: the result of task ${literal(taskId)} \\(model_training\\) arrived in this session: completed`,
      ),
      'the arrival notice',
    )
    // The result woke the agent: what it said on its own shows under its heading, then the prompt
    // again (so the next line does not meet a session busy with the continuation).
    await seen(
      new RegExp(
        `\\[while you were away\\] task ${literal(taskId)} ended; the agent carried on \\(continuation 1\\)${EOL}` +
          `\\[demo model\\] [^\\r\\n]+${EOL}you> `,
      ),
      'the continuation and the prompt after it',
    )
    const asked = chat.screen().length
    chat.send('show my results')
    await seen(
      new RegExp(`Your task ${literal(taskId)} \\(model_training\\) completed.*test accuracy \\d`),
      'the real scores',
      asked,
    )
    await seen(/test accuracy \d[^]*you> /, 'the prompt after the answer', asked)
    // Ctrl-C while an answer is being written stops watching it, says in one line what happens
    // next, and the chat goes on; the turn does finish, and its answer is stored in the session.
    const waiting = chat.screen().length
    chat.send('train a model called chat-wait for 20 epochs and wait for it')
    await seen(/-> model_training /, 'the waiting call', waiting)
    chat.process.stdin.write('\u0003')
    await seen(
      /^stopped watching: the turn goes on in the runtime and its answer is stored in the session/m,
      'the line saying what happens to the turn',
      waiting,
    )
    await seen(/stopped watching[^]*you> /, 'the prompt after the stopped answer', waiting)
    assert.equal(await chat.leave(), 0, chat.screen())
    const session = chat.session()
    assert.ok(session, chat.screen())
    await waitFor(
      async () => {
        const { stdout } = await runCli(['memory', 'events', '--session', session, '--full'], {
          cwd: dev.dataDir,
          env: dev.env,
        })
        return /agent\s+.*Training finished\. Model chat-wait/.test(stdout)
      },
      60_000,
      "the stopped turn's answer in the session",
    )
  } finally {
    if (chat.process.exitCode === null) chat.process.kill('SIGKILL')
  }
})

test('longrun chat, waiting at its prompt, shows a chain of continuations as they happen: one that acted, one a limit stopped; `memory events` tags them', async () => {
  const chat = startChat()
  const { seen } = chat
  try {
    await seen(/you> /, 'the prompt')
    chat.send('train a model called chat-away for 5 epochs, then evaluate it')
    const [, trainId = ''] = await seen(/task (\S+) started \(start_model_training\)/, 'the task id')
    const turnEnd = await seen(
      new RegExp(`task: ${literal(trainId)} \\(start_model_training\\)${EOL}you> `),
      'the prompt after the turn',
    )
    const idle = turnEnd.index + turnEnd[0].length
    // From here on the user types nothing: all that follows is the agent acting on its own.
    const [, evalId = ''] = await seen(
      /notice: the result of task (\S+) \(evaluate_model\) arrived in this session: completed/,
      'the evaluation it started',
      idle,
    )
    assert.notEqual(evalId, trainId)
    const away = await seen(
      new RegExp(
        [
          `notice: the result of task ${literal(trainId)} \\(model_training\\) arrived in this session: completed`,
          `\\[while you were away\\] task ${literal(trainId)} ended; the agent carried on \\(continuation 1\\)`,
          `-> start_evaluate_model ${literal(JSON.stringify({ training_task_id: trainId }))}`,
          `<- [^\\r\\n]*${literal(evalId)}[^\\r\\n]*`,
          `\\[demo model\\] [^\\r\\n]+`,
          // (Shown at once, or at a later read: then the prompt came between.)
          `(?:you> ${EOL})?notice: the result of task ${literal(evalId)} \\(evaluate_model\\) arrived in this session: completed`,
          `(?:you> ${EOL})?\\[while you were away, stopped\\] task ${literal(evalId)} ended; a limit stopped the agent acting on its own until you reply`,
          `\\[demo model\\] [^\\r\\n]+`,
          'you> ',
        ].join(EOL),
      ),
      'the continuation, the stopped one, and the prompt after each',
      idle,
    )
    assert.doesNotMatch(away[0], /start_evaluate_model[^]*start_evaluate_model/, 'each entry shown once')
    // The stopped continuation called no tool: the agent only told the user.
    assert.doesNotMatch(away[0].slice(away[0].indexOf('[while you were away, stopped]')), /^-> /m)
    assert.equal(await chat.leave(), 0, chat.screen())

    // The same session as `longrun memory events` prints it: each entry of a continuation tagged.
    const session = chat.session()
    assert.ok(session, chat.screen())
    const events = await runCli(['memory', 'events', '--session', session], {
      cwd: dev.dataDir,
      env: dev.env,
    })
    assert.equal(events.code, 0, events.stderr)
    const lines = events.stdout
      .trimEnd()
      .split('\n')
      .map((line) => {
        const [, author = '', rest = ''] = /^\S+ \S+ {2}(.{11}) {2}(.*)$/.exec(line) ?? []
        const [, tag] = /^(\[while you were away(?:, stopped)?\]) /.exec(rest) ?? []
        return { author: author.trim(), tag, text: tag === undefined ? rest : rest.slice(tag.length + 1) }
      })
    const tagged = (tag: string | undefined) => lines.filter((line) => line.tag === tag)
    const opening = (tag: string) => tagged(tag).filter((line) => line.author === 'runtime')
    assert.equal(opening('[while you were away]').length, 1)
    assert.ok(opening('[while you were away]')[0]?.text.startsWith(`[continuation] Task ${trainId} `))
    assert.equal(opening('[while you were away, stopped]').length, 1)
    assert.ok(opening('[while you were away, stopped]')[0]?.text.startsWith(`[continuation] Task ${evalId} `))
    const authors = (tag: string | undefined) => new Set(tagged(tag).map((line) => line.author))
    for (const author of ['runtime', 'agent', 'tool'])
      assert.ok(authors('[while you were away]').has(author), `a tagged ${author} entry`)
    // The stopped one called no tool: the agent only told the user.
    assert.ok(authors('[while you were away, stopped]').has('agent'))
    assert.equal(authors('[while you were away, stopped]').has('tool'), false)
    // The user's own turn and the task results are not tagged.
    assert.deepEqual([...authors(undefined)].sort(), ['agent', 'state', 'task result', 'tool', 'user'])
    assert.equal(tagged(undefined).filter((line) => line.author === 'task result').length, 2)
  } finally {
    if (chat.process.exitCode === null) chat.process.kill('SIGKILL')
  }
})
