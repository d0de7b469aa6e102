import {
  ACCOUNT,
  executionArn,
  type FakeEventBridge,
  type FakeExecution,
  type FakeLedger,
  type FakeSns,
  type FakeStepFunctions,
  REGION,
  STATE_MACHINE_ARN,
  startFakeEventBridge,
  startFakeLedger,
  startFakeSns,
  startFakeStepFunctions,
  TOPIC_ARN,
} from './recorder-fakes.ts';

/**
 * Starts dynalite and the fakes, and points the environment at them the way the Lambda runtime (or
 * the local engine's worker thread) would: region, fake credentials, AWS_ENDPOINT_URL_* and the
 * recorder's own variables. Import the handler under test after this: it builds its SDK clients when
 * its module loads.
 */
export interface RecorderHarness {
  readonly ledger: FakeLedger;
  readonly sfn: FakeStepFunctions;
  readonly sns: FakeSns;
  readonly bus: FakeEventBridge;
  /** Creates a fresh ledger table and points LEDGER_TABLE at it. */
  useNewTable(): Promise<string>;
  /** Forgets what the fakes received, and serves whole history pages again. */
  reset(): void;
  close(): Promise<void>;
}

let tables = 0;

export async function startRecorderHarness(): Promise<RecorderHarness> {
  const [ledger, sfn, sns, bus] = await Promise.all([
    startFakeLedger(),
    startFakeStepFunctions(),
    startFakeSns(),
    startFakeEventBridge(),
  ]);
  Object.assign(process.env, {
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'fake',
    AWS_SECRET_ACCESS_KEY: 'fake',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_DYNAMODB: ledger.endpoint,
    AWS_ENDPOINT_URL_SFN: sfn.endpoint,
    AWS_ENDPOINT_URL_SNS: sns.endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: bus.endpoint,
    ALERT_TOPIC_ARN: TOPIC_ARN,
  });
  return {
    ledger,
    sfn,
    sns,
    bus,
    async useNewTable() {
      const table = `Ledger${++tables}`;
      await ledger.createTable(table);
      process.env.LEDGER_TABLE = table;
      return table;
    },
    reset() {
      sfn.pageLimit = Number.POSITIVE_INFINITY;
      sfn.requests.length = 0;
      sns.published.length = 0;
      bus.entries.length = 0;
    },
    async close() {
      await Promise.all([ledger.close(), sfn.close(), sns.close(), bus.close()]);
    },
  };
}

/** The event EventBridge delivers when an execution changes status. */
export function statusEvent(execution: FakeExecution, status: string = execution.status): unknown {
  const arn = executionArn(execution.name);
  return {
    version: '0',
    id: `event-${execution.name}-${status}`,
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: ACCOUNT,
    time: (execution.stopDate ?? execution.startDate).toISOString(),
    region: REGION,
    resources: [arn],
    detail: {
      executionArn: arn,
      stateMachineArn: STATE_MACHINE_ARN,
      name: execution.name,
      status,
      startDate: execution.startDate.getTime(),
      stopDate: execution.stopDate?.getTime() ?? null,
      input: JSON.stringify(execution.input),
      output: null,
    },
  };
}
