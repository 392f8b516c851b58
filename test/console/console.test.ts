/**
 * The seed's story in the developer console, in a real browser: `longrun dev` started as a user
 * starts it, the console opened from the URL it prints, a training run asked for in the chat, its
 * task and progress bar in the task panel, the runtime stopped while the run goes on, the result
 * landing in the memory timeline with no agent running, the runtime started again and the real
 * scores in the answer. Screenshots of each step go to .test-output/console/.
 */
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from '../helpers/browser.ts'
import { type DevStack, startDevStack } from '../helpers/dev-stack.ts'

const SHOTS = new URL('../../.test-output/console/', import.meta.url).pathname

describe('the developer console', () => {
  let dev: DevStack
  let browser: Browser
  let page: Page
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })

  before(async () => {
    mkdirSync(SHOTS, { recursive: true })
    dev = await startDevStack(250)
    browser = await launchChromium()
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
    await page.goto(dev.consoleUrl)
  })

  after(async () => {
    await browser?.close()
    await dev?.stop()
  })

  /** Sends a prompt and waits until its turn is there and answered (the Send button is back). */
  const ask = async (prompt: string) => {
    const turns = await page.locator('.messages > div').count()
    await page.fill('input[name=prompt]', prompt)
    await page.click('form.ask button[type=submit]')
    await page.waitForFunction(
      `document.querySelectorAll('.messages > div').length > ${turns} && !document.querySelector('form.ask button[type=submit]').disabled`,
      undefined,
      { timeout: 30_000 },
    )
  }

  test('a training run: started in the chat, watched in the task panel, its result in memory while no runtime runs, reported after a restart', async () => {
    await page.waitForSelector('text=longrun console')
    await shot('1-opened')

    await ask('train a model called console-demo for 40 epochs')
    const tool = page.locator('.tool[data-tool=start_model_training]')
    await tool.waitFor()
    assert.match(
      await page.locator('.message.agent').last().innerText(),
      /Started task \S+ \(model_training\)/,
    )
    const taskId = await tool.locator('code').innerText()
    assert.ok(taskId.length > 10, 'the tool call shows its task id')

    // The task panel shows the task, and its progress bar advances on its own (no refresh).
    const task = page.locator(`.task[data-task-id="${taskId}"]`)
    await task.waitFor()
    const progress = task.locator('progress')
    await progress.waitFor()
    const first = Number(await progress.getAttribute('value'))
    // The predicate runs in the page, so it is given as source text.
    await page.waitForFunction(
      `Number(document.querySelector('.task[data-task-id="${taskId}"] progress')?.getAttribute('value')) > ${first}`,
      undefined,
      { timeout: 10_000 },
    )
    await shot('2-task-running')

    // The user leaves: the runtime stops while the training goes on.
    await page.click('button[name=runtime]')
    await page.waitForSelector('[data-runtime=stopped]')
    assert.equal(
      await task.getAttribute('data-status'),
      'working',
      'the task still runs when the runtime stops',
    )
    assert.equal(await page.locator('.entry[data-author="task result"]').count(), 0, 'no result yet')
    await shot('3-runtime-stopped')

    // The result lands in the session's memory with no agent running.
    const result = page.locator('.entry[data-author="task result"]')
    await result.waitFor({ timeout: 30_000 })
    const delivered = await result.innerText()
    assert.match(delivered, new RegExp(`Long-running task ${taskId} \\(tool model_training\\) completed`))
    assert.equal(
      await page.locator('[data-runtime=stopped]').count(),
      1,
      'it landed while the runtime was stopped',
    )
    await task.locator('.status.completed').waitFor()
    await result.locator('button').click()
    assert.match(
      await result.locator('pre').innerText(),
      /conversational/,
      'the raw payload is one click away',
    )
    await shot('4-result-in-memory')

    // Back: the runtime starts again, and the agent reports the real scores from memory.
    await page.click('button[name=runtime]')
    await page.waitForSelector('[data-runtime=running]')
    const accuracy = /"test_accuracy":\s*([0-9.]+)/.exec(delivered)?.[1]
    assert.ok(accuracy, `the result has a test accuracy: ${delivered}`)
    await ask('show my results')
    const answer = await page.locator('.message.agent').last().innerText()
    assert.match(answer, new RegExp(`${taskId} \\(model_training\\) completed`))
    assert.ok(
      answer.includes(String(Number(accuracy))),
      `the answer has the real accuracy ${accuracy}: ${answer}`,
    )
    await shot('5-answer-after-restart')
  })

  test("bad input shows the runtime's own error: an empty prompt, an invalid session id", async () => {
    await ask('')
    const emptyError = await page.locator('.message.error').last().innerText()
    assert.match(emptyError, /INVALID_REQUEST/)
    assert.match(emptyError, /prompt/)
    await page.fill('input[name=session]', 'too-short')
    await page.press('input[name=session]', 'Enter')
    // The chat starts over for the new session.
    await page.waitForFunction(`document.querySelectorAll('.messages > div').length === 0`)
    await ask('hello')
    const sessionError = await page.locator('.message.error').last().innerText()
    assert.match(sessionError, /session/i)
    await shot('6-bad-input')
  })

  test('the API answers only with the token, and only to its own origin', async () => {
    const url = new URL(dev.consoleUrl)
    const token = new URLSearchParams(url.hash.slice(1)).get('token') as string
    const config = (headers: Record<string, string>) => fetch(`${url.origin}/api/config`, { headers })
    const none = await config({})
    assert.equal(none.status, 401)
    assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'UNAUTHENTICATED')
    assert.equal((await config({ authorization: 'Bearer wrong' })).status, 401)
    const foreign = await config({ authorization: `Bearer ${token}`, origin: 'http://evil.example' })
    assert.equal(foreign.status, 403)
    assert.equal(((await foreign.json()) as { error: { code: string } }).error.code, 'FORBIDDEN_HOST')
    assert.equal((await config({ authorization: `Bearer ${token}` })).status, 200)
  })
})
