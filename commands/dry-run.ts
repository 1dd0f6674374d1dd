import { approvalRulesFor } from '../src/domain/approval.js';
import type { Catalog, ServiceConfig, Strategy } from '../src/runbook/catalog.js';
import { defaultEnvironmentOf } from '../src/runbook/environments.js';
import { expectedSeconds, gatesFor, planSteps } from '../src/runbook/plan.js';
import type { DryRun } from '../views/reports.js';

/** The plan a `/deploy … dry-run` shows: the steps and gates the runbook gives this deployment. */
export function dryRun(
  name: string,
  service: ServiceConfig,
  strategy: Strategy,
  version: string,
  catalog: Catalog,
  environment?: string,
): DryRun {
  const steps = planSteps(service, strategy);
  return {
    service: name,
    environment: catalog.environments ? environment : undefined,
    version,
    strategy,
    workload: service.workload,
    steps,
    gates: gatesFor(name, service, strategy),
    hooks: service.hooks,
    expectedSeconds: expectedSeconds(steps),
    approvalRules: approvalRulesFor(catalog, name, environment ?? defaultEnvironmentOf(catalog)),
  };
}
