/**
 * What a version may be. The version becomes the image tag (`image:version`), so whatever rule
 * a service sets, Docker's tag limits still hold: at most 128 letters, digits, `_`, `.` and `-`,
 * not starting with `.` or `-`. That also keeps `:` and `@` out, so a version never carries a
 * registry, a repository or a digest of its own.
 */
export const MAX_VERSION_LENGTH = 128;
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** The rule when a service sets no `versionPattern`: a git SHA, or a v-tag with an optional pre-release. */
export const DEFAULT_VERSION_RULE = /^(?:[0-9a-f]{7,40}|v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$/;
export const DEFAULT_VERSION_HINT = 'a git SHA (7–40 hex characters) or a tag such as v1.2.3';

/** A service's `versionPattern`, matched against the whole version. Throws a SyntaxError when it is not a regular expression. */
export const wholeVersionRule = (pattern: string): RegExp => new RegExp(`^(?:${pattern})$`);

const rules = new Map<string, RegExp>();
const ruleOf = (pattern: string | undefined): RegExp => {
  if (pattern === undefined) return DEFAULT_VERSION_RULE;
  let rule = rules.get(pattern);
  if (!rule) {
    rule = wholeVersionRule(pattern);
    rules.set(pattern, rule);
  }
  return rule;
};

/**
 * Why `version` cannot be deployed, worded to follow the version itself (`\`x\` is not a
 * version; give …`), or undefined when it can. `pattern` is the service's `versionPattern`: when
 * set it replaces the default rule, and the refusal shows it. The one check every command and
 * the worker apply. The length is checked first, so no rule ever runs on a long string.
 */
export function versionProblem(version: string, pattern?: string): string | undefined {
  if (version.length > MAX_VERSION_LENGTH)
    return `is ${version.length} characters long; give a version of at most ${MAX_VERSION_LENGTH}, as it becomes the image tag`;
  if (!ruleOf(pattern).test(version))
    return pattern === undefined
      ? `is not a version; give ${DEFAULT_VERSION_HINT}`
      : `is not a version of this service; give one matching its versionPattern \`${pattern}\``;
  return imageTagProblem(version);
}

/** Why `version` cannot be an image tag (Docker's limits, whatever the service's rule), or undefined when it can. */
export function imageTagProblem(version: string): string | undefined {
  return version.length <= MAX_VERSION_LENGTH && IMAGE_TAG.test(version)
    ? undefined
    : `cannot be an image tag; give at most ${MAX_VERSION_LENGTH} letters, digits, _, . or - (not starting with . or -)`;
}

/** What `/deploy` asks for after the service: the default rule's hint, or the service's pattern. */
export const versionHint = (pattern?: string): string =>
  pattern === undefined ? DEFAULT_VERSION_HINT : `a version matching its versionPattern \`${pattern}\``;
