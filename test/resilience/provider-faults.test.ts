import { describe, expect, test } from 'vitest';
import { ALB_CASES, DATADOG_CASES, KUBERNETES_CASES, PAGERDUTY_CASES } from '../support/resilience/fault-cases.js';
import { runFaultCase } from '../support/resilience/faults.js';
import { problems, record } from '../support/resilience/record.js';

describe.each([
  ['the load balancer (ELBv2)', ALB_CASES],
  ['Kubernetes', KUBERNETES_CASES],
  ['Datadog', DATADOG_CASES],
  ['PagerDuty', PAGERDUTY_CASES],
])('faults of %s', (_name, cases) => {
  test.concurrent.for(cases)('$fault: $point', async (c, { task }) => {
    const { row } = await runFaultCase(c);
    record(task, row);
    expect(problems(row)).toEqual([]);
    expect(row.outcome).toBe(c.expect);
  });
});
