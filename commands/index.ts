import type { App } from '@slack/bolt';
import type { AppContext } from '../src/app/context.js';
import { registerAlertButtons } from './alerts.js';
import { registerAppHome } from './app-home.js';
import { registerChecklistSubmission } from './checklist-submission.js';
import { registerDecisions } from './decision.js';
import { registerDeploy } from './deploy.js';
import { onCallDirectory } from './on-call.js';
import { registerRollback } from './rollback.js';
import { registerShift } from './shift.js';

/** Every slash command, button and modal submission Switchyard answers. */
export function registerCommands(app: App, ctx: AppContext): void {
  registerDeploy(app, ctx);
  registerChecklistSubmission(app, ctx);
  registerDecisions(app, ctx);
  const onCall = onCallDirectory(app.client, ctx);
  registerRollback(app, ctx, onCall);
  registerAlertButtons(app, ctx, onCall);
  registerShift(app, ctx);
  registerAppHome(app, ctx);
}
