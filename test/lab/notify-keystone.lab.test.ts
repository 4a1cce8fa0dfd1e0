// Against the REAL Keystone of the OpenStack lab (test/lab/up.sh): real users with
// emails, a group and role assignments, resolved into recipients and delivered
// through a real SMTP server on 127.0.0.1. Part of `npm run test:lab`, which brings the lab up.
// Everything it creates is uniquely named and deleted afterwards.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverReport } from '../../core/deliver-report.js';
import { connectionFromCloudsYaml } from '../../drivers/cloud/openstack/credentials.js';
import { KeystoneSession } from '../../drivers/cloud/openstack/session.js';
import { EmailNotifier, emailNotifierSchema } from '../../drivers/notifier/email.js';
import { KeystoneDirectory, RecipientResolver } from '../../drivers/notifier/recipients.js';
import { silentLogger } from '../support/capture-logger.js';
import { sampleReport, startSmtpSink } from '../support/notify-fixtures.js';

const CLOUDS = process.env.FREEZER_DR_LAB_CLOUDS ?? '/var/lib/freezer-dr-lab/clouds.yaml';

const tag = `fdr-notify-${randomBytes(4).toString('hex')}`;
let session: KeystoneSession;
const created: { kind: 'users' | 'groups' | 'projects'; id: string }[] = [];
const ids = { shop: '', quiet: '' };

async function create(kind: 'users' | 'groups' | 'projects', body: Record<string, unknown>): Promise<string> {
  const key = kind.slice(0, -1);
  const { data } = await session.request<Record<string, { id: string }>>({
    service: 'identity',
    path: `/${kind}`,
    method: 'POST',
    data: { [key]: { domain_id: 'default', ...body } },
  });
  const id = (data[key] as { id: string }).id;
  created.push({ kind, id });
  return id;
}

const put = (path: string) => session.request({ service: 'identity', path, method: 'PUT' });

describe('recipients from the lab Keystone (real OpenStack)', () => {
  beforeAll(async () => {
    if (!existsSync(CLOUDS))
      throw new Error(`${CLOUDS} is missing: bring the lab up with bash test/lab/up.sh`);
    session = new KeystoneSession(connectionFromCloudsYaml(readFileSync(CLOUDS, 'utf8'), 'lab'));
    const roles = await session.request<{ roles: { id: string }[] }>({
      service: 'identity',
      path: '/roles?name=member',
    });
    const member = roles.data.roles[0]?.id as string;
    ids.shop = await create('projects', { name: `${tag}-shop` });
    ids.quiet = await create('projects', { name: `${tag}-quiet` });
    const password = randomBytes(12).toString('hex');
    const ann = await create('users', { name: `${tag}-ann`, email: `ann@${tag}.example`, password });
    const bob = await create('users', { name: `${tag}-bob`, email: `bob@${tag}.example`, password });
    const cid = await create('users', {
      name: `${tag}-cid`,
      email: `cid@${tag}.example`,
      password,
      enabled: false,
    });
    const dee = await create('users', { name: `${tag}-dee`, password });
    const group = await create('groups', { name: `${tag}-devs` });
    await put(`/groups/${group}/users/${bob}`);
    await put(`/projects/${ids.shop}/users/${ann}/roles/${member}`);
    await put(`/projects/${ids.shop}/groups/${group}/roles/${member}`);
    await put(`/projects/${ids.shop}/users/${cid}/roles/${member}`);
    await put(`/projects/${ids.quiet}/users/${dee}/roles/${member}`);
  }, 60_000);

  afterAll(async () => {
    for (const { kind, id } of created.reverse()) {
      await session
        .request({ service: 'identity', path: `/${kind}/${id}`, method: 'DELETE' })
        .catch(() => undefined);
    }
  }, 60_000);

  it("finds the project's users with an email, through groups too, and skips disabled ones", async () => {
    const resolver = new RecipientResolver(
      { admins: ['ops@cloud.example'], overrides: {}, roles: null, excludeUsers: [] },
      new KeystoneDirectory(session),
    );
    const shop = await resolver.forProject(ids.shop);
    expect(shop).toMatchObject({ projectName: `${tag}-shop`, source: 'keystone', note: null });
    expect(shop.addresses.sort()).toEqual([`ann@${tag}.example`, `bob@${tag}.example`]);
    const quiet = await resolver.forProject(ids.quiet);
    expect(quiet).toMatchObject({ source: 'admins', addresses: ['ops@cloud.example'] });
    expect(quiet.note).toMatch(/none of its 1 user\(s\) has an email address/);
  });

  it('delivers each project its own message to those users', async () => {
    const smtp = await startSmtpSink();
    try {
      const report = sampleReport();
      report.instances = report.instances.map((i) =>
        i.projectId === 'p-alpha'
          ? { ...i, projectId: ids.shop }
          : i.projectId === 'p-beta'
            ? { ...i, projectId: ids.quiet }
            : i,
      );
      const email = new EmailNotifier(
        emailNotifierSchema.parse({
          driver: 'email',
          from: 'freezer-dr@cloud.example',
          admins: ['ops@cloud.example'],
          smtp: { host: '127.0.0.1', port: smtp.port, security: 'none' },
        }),
        { logger: silentLogger, env: {}, directory: () => new KeystoneDirectory(session) },
      );
      const [result] = await deliverReport([email], report);
      expect(result?.ok).toBe(true);
      const shop = smtp.messages.find((m) => m.headers.get('x-freezer-dr-project') === ids.shop);
      expect(shop?.to.sort()).toEqual([`ann@${tag}.example`, `bob@${tag}.example`]);
      expect(shop?.subject).toContain(`(project ${tag}-shop)`);
      expect(shop?.text).toContain('web-1');
      expect(shop?.text).not.toContain('beta-secret-app');
      const quiet = smtp.messages.find((m) => m.headers.get('x-freezer-dr-project') === ids.quiet);
      expect(quiet?.to).toEqual(['ops@cloud.example']);
      expect(quiet?.text).toContain('beta-secret-app');
    } finally {
      await smtp.close();
    }
  });
});
