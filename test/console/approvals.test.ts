/**
 * Approvals in the developer console, in a real browser: with `AGENT_APPROVAL_TOOLS` set for
 * `longrun dev`, a training asked for in the chat pauses on a question with Approve and Refuse; a
 * click sends the answer (`interrupt_responses`) as a turn of its own. Approved, the task starts once
 * and shows in the task panel, and its continuation (the agent reporting the result on its own)
 * shows in the chat; refused, nothing starts. The page runs under its CSP: a violation or an
 * uncaught error fails the test.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { after, afterEach, before, describe, test } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { launchChromium, watchedPage } from '../helpers/browser.ts'
import { NODE } from '../helpers/child-process.ts'
import { CLI, type DevStack, startDevStack } from '../helpers/dev-stack.ts'
import { waitFor } from '../helpers/local-agentcore.ts'

const run = promisify(execFile)

describe('approvals in the developer console', () => {
  let dev: DevStack
  let browser: Browser
  let page: Page
  const problems: string[] = []

  before(async () => {
    dev = await startDevStack(100, { AGENT_APPROVAL_TOOLS: 'start_model_training' })
    // A first turn through the CLI: the console opens on that conversation (the default actor, the
    // one `longrun tasks` lists).
    const { stderr } = await run(NODE, [CLI, 'invoke', 'list my tasks'], { env: dev.env, cwd: dev.dataDir })
    assert.match(stderr, /session: \S+/)
    browser = await launchChromium()
    page = await watchedPage(browser, problems)
    await page.goto(dev.consoleUrl)
  })

  afterEach(() => {
    assert.deepEqual(problems.splice(0), [], 'no CSP violation and no uncaught error on the page')
  })

  after(async () => {
    await browser?.close()
    await dev?.stop()
  })

  /** The tasks of the console's session, as `longrun tasks` lists them. */
  const tasks = async (): Promise<{ task_id: string; tool: string }[]> => {
    const { stdout } = await run(NODE, [CLI, 'tasks', '--json'], { env: dev.env, cwd: dev.dataDir })
    return JSON.parse(stdout) as { task_id: string; tool: string }[]
  }

  /** Waits until the chat is idle again (its Send button enabled) with more turns than `turns`. */
  const turnEnded = (turns: number) =>
    waitFor(
      async () =>
        (await page.locator('.messages > .turn:not(.away)').count()) > turns &&
        (await page.locator('form.ask button[type=submit]').isEnabled()),
      30_000,
      'the turn to end',
    )

  /** Asks for a training and waits for its question. */
  const askForTraining = async (name: string) => {
    const turns = await page.locator('.messages > .turn:not(.away)').count()
    await page.fill('input[name=prompt]', `train a model called ${name} for 3 epochs`)
    await page.click('form.ask button[type=submit]')
    await turnEnded(turns)
    const question = page.locator('.question[data-interrupt]').last()
    await question.waitFor()
    return question
  }

  test('a question shows with Approve and Refuse; Approve starts the task once, in the task panel', async () => {
    const before = await tasks()
    const question = await askForTraining('console-approved')
    assert.match(await question.innerText(), /start_model_training|console-approved/)
    assert.equal((await tasks()).length, before.length, 'nothing starts before the answer')

    const turns = await page.locator('.messages > .turn:not(.away)').count()
    await question.locator('button', { hasText: 'Approve' }).click()
    await turnEnded(turns)
    assert.equal(await page.locator('.question[data-interrupt]').count(), 0, 'the answered question goes')
    assert.match(await page.locator('.messages > .turn:not(.away)').last().innerText(), /Approved/)

    const started = await waitFor(
      async () => {
        const now = await tasks()
        return now.length > before.length ? now : undefined
      },
      30_000,
      'the approved task',
    )
    const fresh = started.filter((task) => !before.some((known) => known.task_id === task.task_id))
    assert.equal(fresh.length, 1, 'the task starts once')
    assert.equal(fresh[0]?.tool, 'model_training')
    await page.locator(`section.tasks .task[data-task-id="${fresh[0]?.task_id}"]`).waitFor()
    // Its result wakes the agent, which reports it on its own (no question: it calls no tool); the
    // chat shows that as it happens, and the next test's turn does not meet a busy session.
    await page
      .locator(`.messages > .turn.away[data-task-id="${fresh[0]?.task_id}"] .message.agent`)
      .waitFor({ timeout: 30_000 })
    assert.equal(await page.locator('.question[data-interrupt]').count(), 0)
  })

  test('Refuse starts nothing', async () => {
    const before = await tasks()
    const question = await askForTraining('console-refused')
    const turns = await page.locator('.messages > .turn:not(.away)').count()
    await question.locator('button', { hasText: 'Refuse' }).click()
    await turnEnded(turns)
    assert.match(await page.locator('.messages > .turn:not(.away)').last().innerText(), /Refused/)
    assert.equal(await page.locator('.question[data-interrupt]').count(), 0)
    assert.deepEqual(
      (await tasks()).map((task) => task.task_id),
      before.map((task) => task.task_id),
      'no task started',
    )
  })
})
