import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const RULES = new Set(['import-x/no-restricted-paths', 'no-restricted-imports']);
const eslint = new ESLint({ cwd: new URL('../../..', import.meta.url).pathname });

/** The layer errors lint reports for `code` placed at `filePath` (relative to the repository). */
async function layerErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId !== null && RULES.has(m.ruleId)).map((m) => m.message);
}

describe('layer rules (npm run lint)', () => {
  it.each([
    ['src/domain/x.ts', "import type { Providers } from '../providers/providers.js';", 'src/domain is pure'],
    ['src/domain/x.ts', "import type { Catalog } from '../runbook/catalog.js';", 'src/domain is pure'],
    ['src/domain/x.ts', "export { statusLine } from '../../views/status-line.js';", 'src/domain is pure'],
    ['src/domain/x.ts', "import { z } from 'zod';", 'src/domain is pure'],
    ['src/domain/x.ts', "import { readFile } from 'node:fs/promises';", 'src/domain is pure'],
    ['views/x.ts', "import type { DeploymentStore } from '../src/store/deployment-store.js';", 'Views are pure'],
    ['views/x.ts', "import { planSteps } from '../src/runbook/plan.js';", 'Views are pure'],
    ['views/x.ts', "import { registerDeploy } from '../commands/deploy.js';", 'Views are pure'],
    ['views/x.ts', "import type { WebClient } from '@slack/web-api';", 'Views are pure'],
    ['src/providers/traffic/x.ts', "import { DeploymentQueue } from '../../queue/deployment-queue.js';", 'Providers'],
    ['src/providers/x.ts', "import type { AppContext } from '../app/context.js';", 'Providers'],
    ['src/providers/x.ts', "import { registerCommands } from '../../commands/index.js';", 'Providers'],
    ['src/queue/x.ts', "import type { AppContext } from '../app/context.js';", 'The worker never imports'],
    ['src/queue/x.ts', "import { registerDeploy } from '../../commands/deploy.js';", 'The worker never imports'],
    ['src/app/x.ts', "import { startSandbox } from '../../sandbox/sandbox.js';", 'ships without'],
    ['commands/x.ts', "import { T0 } from '../test/unit/fixtures.js';", 'ships without'],
    ['views/x.ts', "const bench = await import('../bench/stats.js');", 'ships without'],
  ])('%s: %s is refused', async (file, code, why) => {
    const errors = await layerErrors(file, code);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join('\n')).toContain(why);
  });

  it.each([
    ['src/domain/x.ts', "import type { Deployment } from './deployment.js';"],
    [
      'views/x.ts',
      "import type { Deployment } from '../src/domain/deployment.js';\nimport { quote } from './text.js';",
    ],
    ['src/providers/x.ts', "import type { Measurement } from '../domain/gates.js';"],
    ['src/queue/x.ts', "import type { Providers } from '../providers/providers.js';"],
    ['commands/x.ts', "import type { AppContext } from '../src/app/context.js';"],
    ['test/x.ts', "import { startSandbox } from '../sandbox/sandbox.js';"],
  ])('%s: %s is allowed', async (file, code) => {
    expect(await layerErrors(file, code)).toEqual([]);
  });
});
