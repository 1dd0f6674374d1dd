/** One sign-off a deployment needs: `count` distinct people from `from` (users U…/W…, user groups S…). */
export interface ApprovalRule {
  name: string;
  from: string[];
  count: number;
}

/** `none`: the deployment starts once the checklist is submitted; otherwise every rule must be met. */
export type Approval = 'none' | { rules: ApprovalRule[] };

/** One person's approval, counted toward one rule. */
export interface ApprovalRecord {
  by: string;
  rule: string;
  at: number;
}

/** Where approval rules may be set: the catalog, its environments and its services (and their environments). */
export interface ApprovalSources {
  slack: { releaseManagers: string[] };
  approval?: Approval;
  environments?: Record<string, { approval?: Approval }>;
  services: Record<string, { approval?: Approval; environments?: Record<string, { approval?: Approval }> }>;
}

export const DEFAULT_RULE_NAME = 'release manager';

/** Without `approval` anywhere: one release manager, as Switchyard always asked. */
export const defaultRules = (catalog: Pick<ApprovalSources, 'slack'>): ApprovalRule[] => [
  { name: DEFAULT_RULE_NAME, from: [...catalog.slack.releaseManagers], count: 1 },
];

/**
 * The rules a deployment of `service` to `environment` needs; the most specific setting wins:
 * the service's (its override for the environment first), the environment's, the catalog's,
 * then the default. An empty list means `approval: none`.
 */
export function approvalRulesFor(catalog: ApprovalSources, service: string, environment: string): ApprovalRule[] {
  const entry = Object.hasOwn(catalog.services, service) ? catalog.services[service] : undefined;
  const approval =
    entry?.environments?.[environment]?.approval ??
    entry?.approval ??
    catalog.environments?.[environment]?.approval ??
    catalog.approval;
  if (approval === undefined) return defaultRules(catalog);
  return approval === 'none' ? [] : approval.rules;
}

/** How far one rule has come: who approved toward it, and how many more it needs. */
export interface RuleProgress {
  rule: ApprovalRule;
  approvals: ApprovalRecord[];
  missing: number;
}

export function ruleProgress(rules: readonly ApprovalRule[], approvals: readonly ApprovalRecord[]): RuleProgress[] {
  return rules.map((rule) => {
    const toward = approvals.filter((a) => a.rule === rule.name);
    return { rule, approvals: toward, missing: Math.max(0, rule.count - toward.length) };
  });
}

export const openRules = (progress: readonly RuleProgress[]): RuleProgress[] => progress.filter((p) => p.missing > 0);

/** Rule names unique within one approval, so an approval names the rule it counts toward. */
export const duplicateRuleNames = (rules: readonly ApprovalRule[]): string[] => [
  ...new Set(rules.map((r) => r.name).filter((name, i, all) => all.indexOf(name) !== i)),
];
