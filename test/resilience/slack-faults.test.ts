import { describe, expect, test } from 'vitest';
import { SLACK_CASES } from '../support/resilience/fault-cases.js';
import { runFaultCase } from '../support/resilience/faults.js';
import { problems, record } from '../support/resilience/record.js';

// The bar for Slack: the deployment completes and every message appears exactly once, in the end.
describe('faults of the Slack Web API', () => {
  test.concurrent.for(SLACK_CASES)('$fault: $point', async (c, { task }) => {
    const { row } = await runFaultCase(c);
    record(task, row);
    expect(problems(row)).toEqual([]);
    expect(row.outcome).toBe(c.expect);
  });
});
