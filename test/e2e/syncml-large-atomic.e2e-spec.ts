import type { AuthUser } from '../../src/auth/auth-user';
import { CommandsService } from '../../src/commands/commands.service';
import type { CommandConfig } from '../../src/commands/commands.types';
import type { SyncmlCommand } from '../../src/syncml/codec';
import { bearer, startTestApp, TestApp } from '../support/app';
import {
  ADMX_PATH,
  admxValue,
  expectChunkedDelivery,
  sessionWithMaxMsgSize,
  SMALL_MAX_MSG,
} from '../support/large-values';
import { commandsUrl } from '../support/seed';
import {
  managedDevice,
  responseOf,
  simulate,
  storedState,
  type Managed,
} from '../support/syncml-device';

// Large objects (OMA-DM 1.2 §7) and Atomic (MS-MDM 2.2.7.3) between the server and a simulated
// Windows device (management-session.md §3.8, §3.9).

const ADMIN: AuthUser = { subject: 'admin-1', organizations: ['*'], permissions: ['*'] };

const policy = (name: string): string => `./Device/Vendor/MSFT/Policy/Config/Test/${name}`;
const replace = (path: string, value: string): CommandConfig => ({
  path,
  action: 'Replace',
  value,
  format: 'chr',
});

describe('SyncML large objects and Atomic', () => {
  let t: TestApp;
  let commands: CommandsService;
  beforeAll(async () => {
    t = await startTestApp(__filename);
    commands = t.app.get(CommandsService);
  });
  afterAll(() => t.close());

  const enqueue = (d: Managed, configs: CommandConfig[], atomic?: boolean) =>
    commands.enqueueConfigs(ADMIN, d.slug, d.deviceId, {
      name: null,
      configs,
      ...(atomic && { atomic }),
    });

  it('delivers a 100 KiB value across 16 KiB messages; the device reassembles it exactly', async () => {
    const d = await managedDevice(t);
    const value = admxValue(100 * 1024);
    const b = await enqueue(d, [replace(ADMX_PATH, value), replace(policy('After'), 'next')]);
    const { sim, run } = await sessionWithMaxMsgSize(t, d, SMALL_MAX_MSG);
    expect(sim.valueOf(ADMX_PATH)).toBe(value);
    expect(sim.valueOf(policy('After'))).toBe('next');

    const big = b.commands[0].cmdId;
    expectChunkedDelivery(run, big, Math.ceil((value.length * 1.2) / SMALL_MAX_MSG));
    // Every chunk went under the command's own CmdID; only the first carried Meta/Size.
    const chunks = run.exchanges
      .map(responseOf)
      .flatMap((m) => m.commands)
      .filter((c): c is Extract<SyncmlCommand, { kind: 'Replace' }> => c.cmdId === big);
    expect(chunks.map((c) => c.items[0].meta?.size)).toEqual([
      String(Buffer.byteLength(value)),
      ...chunks.slice(1).map(() => undefined),
    ]);

    const s = await storedState(t, d.winDeviceId);
    expect(s.commands.map((c) => [c.status, c.statusCode, c.attempts])).toEqual([
      ['Acknowledged', '200', 1],
      ['Acknowledged', '200', 1],
    ]);
    expect(s.device.syncml).not.toHaveProperty('chunk');
  });

  it('splits a value even for a tiny MaxMsgSize, then delivers the next command', async () => {
    const d = await managedDevice(t);
    const value = 'v'.repeat(500);
    const b = await enqueue(d, [
      replace(policy('Wide'), value),
      { path: './DevInfo/Man', action: 'Get', format: 'chr' },
    ]);
    const { sim } = await sessionWithMaxMsgSize(t, d, 900);
    expect(sim.valueOf(policy('Wide'))).toBe(value);
    const byId = new Map((await storedState(t, d.winDeviceId)).commands.map((c) => [c.cmdId, c]));
    expect(b.commands.map((c) => byId.get(c.cmdId)?.status)).toEqual([
      'Acknowledged',
      'Acknowledged',
    ]);
  });

  it('puts a command back to Pending when the session ends mid-object; redelivery starts over', async () => {
    const d = await managedDevice(t);
    const value = admxValue(40 * 1024);
    const b = await enqueue(d, [replace(ADMX_PATH, value)]);
    const sim = simulate(t, d, { maxMsgSize: SMALL_MAX_MSG });
    // The device answers the first chunk (213), then drops the session at the second.
    const cut = await sim.runSession({ dropAnswerForMessage: 3 });
    expect(cut.outcome).toBe('dropped');
    expect(sim.valueOf(ADMX_PATH)).toBeUndefined();
    expect((await storedState(t, d.winDeviceId)).commands[0]).toMatchObject({
      status: 'Awaiting',
      statusCode: '213',
    });

    const again = await sim.runSession();
    sim.close();
    expect(again.warnings).toEqual([]);
    expect(sim.valueOf(ADMX_PATH)).toBe(value);
    const [c] = (await storedState(t, d.winDeviceId)).commands;
    expect([c.cmdId, c.status, c.statusCode, c.attempts]).toEqual([
      b.commands[0].cmdId,
      'Acknowledged',
      '200',
      2,
    ]);
  });

  it('delivers an atomic batch inside one Atomic, all applied', async () => {
    const d = await managedDevice(t);
    const r = await t.http
      .post(commandsUrl(d))
      .set(bearer(d.token))
      .send({
        atomic: true,
        commands: ['A', 'B', 'C'].map((n) => ({
          config: { path: policy(n), action: 'Replace', value: n, format: 'chr' },
        })),
      });
    expect(r.status).toBe(200);
    expect(r.body.data.atomic).toBe(true);
    const sim = simulate(t, d);
    const run = await sim.runSession();
    sim.close();
    expect(run.warnings).toEqual([]);
    const atomics = run.exchanges
      .map(responseOf)
      .flatMap((m) => m.commands)
      .filter((c): c is Extract<SyncmlCommand, { kind: 'Atomic' }> => c.kind === 'Atomic');
    expect(atomics).toHaveLength(1);
    expect(atomics[0].commands.map((c) => c.cmdId)).toEqual(
      (r.body.data.commands as { cmdId: string }[]).map((c) => c.cmdId),
    );
    expect(['A', 'B', 'C'].map((n) => sim.valueOf(policy(n)))).toEqual(['A', 'B', 'C']);
    const s = await storedState(t, d.winDeviceId);
    expect(s.commands.map((c) => [c.status, c.statusCode, c.atomic])).toEqual([
      ['Acknowledged', '200', true],
      ['Acknowledged', '200', true],
      ['Acknowledged', '200', true],
    ]);
  });

  it('rolls the whole Atomic back when the device refuses one path', async () => {
    const d = await managedDevice(t);
    await enqueue(
      d,
      [replace(policy('One'), '1'), replace(policy('Refused'), '2'), replace(policy('Three'), '3')],
      true,
    );
    const sim = simulate(t, d, { behaviour: { failPaths: { [policy('Refused')]: '405' } } });
    const run = await sim.runSession();
    sim.close();
    expect(run.warnings).toEqual([]);
    expect(run.transcript.find((e) => e.verb === 'Atomic')?.answeredStatus).toBe('507');
    expect(['One', 'Refused', 'Three'].map((n) => sim.valueOf(policy(n)))).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    const s = await storedState(t, d.winDeviceId);
    expect(s.commands.map((c) => [c.status, c.statusCode])).toEqual([
      ['CommandInsideAtomicElementAndAtomicFailed', '216'],
      ['MethodNotAllowed', '405'],
      ['CommandInsideAtomicElementAndAtomicFailed', '216'],
    ]);
  });

  it.each([
    [
      'a Get inside the Atomic',
      [{ path: './DevDetail/SwV', action: 'Get', format: 'chr' }],
      'commands.0.config.action',
    ],
    [
      './User/ and ./Device/ nodes mixed',
      [
        {
          path: './User/Vendor/MSFT/Policy/Config/Test/U',
          action: 'Replace',
          value: '1',
          format: 'int',
        },
        { path: policy('D'), action: 'Replace', value: '1', format: 'int' },
      ],
      'atomic',
    ],
  ])('refuses an atomic batch with %s (400 5091), queuing nothing', async (_, configs, field) => {
    const d = await managedDevice(t);
    const body = { atomic: true, commands: configs.map((config) => ({ config })) };
    const r = await t.http.post(commandsUrl(d)).set(bearer(d.token)).send(body);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe(5091);
    expect(JSON.stringify(r.body.error)).toContain(field);
    expect((await storedState(t, d.winDeviceId)).batches).toBe(0);
  });

  it('refuses, through the service, an atomic batch larger than one message', async () => {
    const d = await managedDevice(t);
    const configs = Array.from({ length: 40 }, (_, i) =>
      replace(policy(`N${i}`), 'v'.repeat(2000)),
    );
    await expect(enqueue(d, configs, true)).rejects.toMatchObject({ code: 5091 });
    expect((await storedState(t, d.winDeviceId)).batches).toBe(0);
  });

  it('reads back what the device stored, 404 for unreadable nodes, and drift made behind the server', async () => {
    const d = await managedDevice(t);
    const [kept, hidden] = [policy('Kept'), policy('Hidden')];
    const sim = simulate(t, d, { behaviour: { unreadablePaths: [hidden] } });
    await enqueue(d, [replace(kept, 'v1'), replace(hidden, 'h')]);
    await sim.runSession();
    const read = () =>
      enqueue(d, [
        { path: kept, action: 'Get', format: 'chr' },
        { path: hidden, action: 'Get', format: 'chr' },
      ]);
    const first = await read();
    await sim.runSession();
    sim.drift(kept, 'changed locally');
    const second = await read();
    await sim.runSession();
    sim.close();
    const byId = new Map((await storedState(t, d.winDeviceId)).commands.map((c) => [c.cmdId, c]));
    const outcome = (cmdId: string) => {
      const c = byId.get(cmdId)!;
      return [c.status, c.statusCode, (c.data as { value?: string }[])[0]?.value];
    };
    expect(first.commands.map((c) => outcome(c.cmdId))).toEqual([
      ['Acknowledged', '200', 'v1'],
      ['CommandNotFound', '404', undefined],
    ]);
    expect(outcome(second.commands[0].cmdId)).toEqual(['Acknowledged', '200', 'changed locally']);
  });
});
