import { describe, expect, it } from 'vitest';
import {
  approvalRulesFor,
  duplicateRuleNames,
  openRules,
  ruleProgress,
  type ApprovalRule,
  type ApprovalSources,
} from '../../../src/domain/approval.js';

const rule = (name: string, from: string[] = ['U0X'], count = 1): ApprovalRule => ({ name, from, count });
const RELEASE_MANAGERS = ['U0RM1', 'U0RM2'];

const catalog = (parts: Partial<ApprovalSources> = {}): ApprovalSources => ({
  slack: { releaseManagers: RELEASE_MANAGERS },
  services: { 'acme-api': {}, 'acme-web': {} },
  ...parts,
});

describe('approvalRulesFor: the most specific setting wins', () => {
  it('without approval anywhere: one release manager', () => {
    expect(approvalRulesFor(catalog(), 'acme-api', 'production')).toEqual([
      { name: 'release manager', from: RELEASE_MANAGERS, count: 1 },
    ]);
  });

  it('service > environment > catalog > default', () => {
    const global = rule('global');
    const staging = rule('staging');
    const own = rule('own');
    const c = catalog({
      approval: { rules: [global] },
      environments: { staging: { approval: { rules: [staging] } }, production: {} },
      services: { 'acme-api': { approval: { rules: [own] } }, 'acme-web': {} },
    });
    expect(approvalRulesFor(c, 'acme-api', 'staging')).toEqual([own]);
    expect(approvalRulesFor(c, 'acme-web', 'staging')).toEqual([staging]);
    expect(approvalRulesFor(c, 'acme-web', 'production')).toEqual([global]);
  });

  it("a service's override for an environment wins over its own rules", () => {
    const c = catalog({
      services: {
        'acme-api': { approval: { rules: [rule('own')] }, environments: { staging: { approval: 'none' } } },
      },
    });
    expect(approvalRulesFor(c, 'acme-api', 'staging')).toEqual([]);
    expect(approvalRulesFor(c, 'acme-api', 'production')).toEqual([rule('own')]);
  });

  it('approval: none at any level means no rules; a more specific level can bring rules back', () => {
    expect(approvalRulesFor(catalog({ approval: 'none' }), 'acme-api', 'production')).toEqual([]);
    const c = catalog({
      approval: 'none',
      services: { 'acme-api': { approval: { rules: [rule('own')] } } },
    });
    expect(approvalRulesFor(c, 'acme-api', 'production')).toEqual([rule('own')]);
  });

  it('a name that is not a service (Object.prototype keys included) gets the catalog-wide rules', () => {
    expect(approvalRulesFor(catalog({ approval: 'none' }), 'constructor', 'production')).toEqual([]);
  });
});

describe('ruleProgress / openRules', () => {
  const rules = [rule('release manager', ['U0RM1', 'U0RM2'], 2), rule('tech lead', ['S0LEADS'])];

  it('counts approvals per rule and what is missing', () => {
    const approvals = [{ by: 'U0RM1', rule: 'release manager', at: 1 }];
    expect(ruleProgress(rules, approvals).map((p) => [p.rule.name, p.approvals.length, p.missing])).toEqual([
      ['release manager', 1, 1],
      ['tech lead', 0, 1],
    ]);
    expect(openRules(ruleProgress(rules, approvals)).map((p) => p.rule.name)).toEqual(['release manager', 'tech lead']);
  });

  it('every rule met', () => {
    const approvals = [
      { by: 'U0RM1', rule: 'release manager', at: 1 },
      { by: 'U0RM2', rule: 'release manager', at: 2 },
      { by: 'U0LEAD', rule: 'tech lead', at: 3 },
    ];
    expect(openRules(ruleProgress(rules, approvals))).toEqual([]);
  });

  it('duplicateRuleNames names each repeated name once', () => {
    expect(duplicateRuleNames([rule('a'), rule('b'), rule('a'), rule('a')])).toEqual(['a']);
    expect(duplicateRuleNames([rule('a'), rule('b')])).toEqual([]);
  });
});
