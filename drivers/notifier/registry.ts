// Notifier drivers: who hears about a recovery, and how.

import type { Notifier } from '../../core/ports.js';
import * as z from '../../core/zod.js';
import { type DriverTable, define } from '../driver-factory.js';
import { SlackNotifier, slackNotifierSchema, WebhookNotifier, webhookNotifierSchema } from './chat.js';
import { createEmailNotifier, emailNotifierSchema } from './email.js';
import { LogNotifier } from './log.js';

export const notifierDrivers: DriverTable<Notifier> = {
  log: define(
    z.strictObject({ driver: z.literal('log') }),
    (_options, context) => new LogNotifier(context.logger),
  ),
  /** SMTP: one message to the admins, one per affected project (addresses from Keystone). */
  email: define(emailNotifierSchema, (options, context) => createEmailNotifier(options, context)),
  /** Slack-compatible incoming webhook (text + blocks). */
  slack: define(slackNotifierSchema, (options, context) => new SlackNotifier(options, { env: context.env })),
  /** Generic JSON webhook: the report plus the rendered summary. */
  webhook: define(
    webhookNotifierSchema,
    (options, context) => new WebhookNotifier(options, { env: context.env }),
  ),
};
