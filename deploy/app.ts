/**
 * The CDK app (cdk.json runs it): `npm run deploy:synth` synthesises it into cdk.out offline, and
 * `npx cdk deploy -c <parameter>=<value> ...` deploys it. The parameters are read from context and
 * checked before anything is defined; a bad one ends the run with its name and exit code 1.
 */
import { App, type AppProps } from 'aws-cdk-lib'
import { LongrunStack } from './longrun-stack.ts'
import { parseStackParameters, StackParameterError } from './stack-parameters.ts'

/** The app and its one stack, from `props.context` plus whatever the CDK CLI passes in. */
export function createApp(props: AppProps = {}): { app: App; stack: LongrunStack } {
  const app = new App(props)
  const parameters = parseStackParameters(app.node.getAllContext())
  const stack = new LongrunStack(app, parameters.stackName, { parameters })
  return { app, stack }
}

if (import.meta.main) {
  try {
    createApp().app.synth()
  } catch (error) {
    if (!(error instanceof StackParameterError)) throw error
    process.stderr.write(`longrun deploy: ${error.message}\n`)
    process.exit(1)
  }
}
