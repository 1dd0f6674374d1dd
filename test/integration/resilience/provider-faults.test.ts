import { describe, expect, test } from 'vitest';
import { ALB_CASES, DATADOG_CASES, KUBERNETES_CASES, SLACK_CASES } from '../../support/resilience/fault-cases.js';
import { runFaultCase } from '../../support/resilience/faults.js';
import { problems, record } from '../../support/resilience/record.js';

// One fault per provider from `npm run test:resilience`, kept in `npm test`.
const CASES = [
  ALB_CASES.find((c) => c.fault === 'ALB answer lost'),
  KUBERNETES_CASES.find((c) => c.fault === 'Kubernetes 409 Conflict'),
  DATADOG_CASES.find((c) => c.point.startsWith('an outage')),
  SLACK_CASES.find((c) => c.fault === 'Slack answer lost'),
].filter((c) => c !== undefined);

describe('one provider fault each', () => {
  test('picks one case per provider', () => expect(CASES).toHaveLength(4));

  test.concurrent.for(CASES)('$fault: $point', async (c, { task }) => {
    const { row } = await runFaultCase(c);
    record(task, row);
    expect(problems(row)).toEqual([]);
    expect(row.outcome).toBe(c.expect);
  });
});
