import { bearer, startTestApp, TestApp } from '../support/app';
import { Seeded } from '../support/seed';
import {
  answerOf,
  commandDoc,
  deviceMessage,
  hdrStatus,
  managedDevice,
  managementCommands,
  openingCommands,
  rawPost,
  readBatch,
  readDevice,
  simulate,
  statusCmd,
  storedState,
} from '../support/syncml-device';
import { msiInstallResultAlert, unenrollmentAlert } from '../../tools/simulator';
import { expectDenied, expectInvalid, expectUnenrolled } from './expect-error';

const PRODUCT = '{AF9257BA-6BBD-4624-AA9B-0182D50292C3}';
const OTHER_PRODUCT = '{11111111-2222-3333-4444-555555555555}';
const MSI_NODE = (id: string) =>
  `./Device/Vendor/MSFT/EnterpriseDesktopAppManagement/MSI/${id}/DownloadInstall`;
const HASH = 'ab'.repeat(32);
const INSTALL = {
  action: 'installMsi',
  productId: PRODUCT,
  url: 'https://downloads.example.com/app.msi',
  hash: HASH,
};
const TIMEOUT_S = 600;
const EXPIRED = 'ExpectedMessageNotReceivedInRequiredPeriodOfTime';

const actionsUrl = (d: Seeded) =>
  `/v1/organizations/${d.slug}/mdm/windows/enterprise/devices/${d.deviceId}/actions`;

describe('Device actions', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(__filename, {
      SYNCML_ASYNC_RESULT_TIMEOUT_SECONDS: String(TIMEOUT_S),
    });
  });
  afterAll(() => t.close());

  const post = (d: Seeded, body: object, token = d.token) =>
    t.http.post(actionsUrl(d)).set(bearer(token)).send(body);

  /** Moves the interim answer of `cmdId` `seconds` into the past (instead of waiting). */
  const ageInterimAnswer = async (cmdId: string, seconds: number) => {
    const doc = await commandDoc(t, cmdId);
    const receivedAt = new Date((doc.receivedAt as Date).getTime() - seconds * 1000);
    await t.db.collection('win_commands').updateOne({ cmdId }, { $set: { receivedAt } });
  };

  it('reboot: one Exec of Reboot/RebootNow, executed in the session → Acknowledged', async () => {
    const d = await managedDevice(t);
    const r = await post(d, { action: 'reboot' });
    expect(r.status).toBe(200);
    expect(r.body.data.action).toEqual({ name: 'reboot' });
    expect(r.body.data.commands.map((c: { config: unknown }) => c.config)).toEqual([
      { path: './Device/Vendor/MSFT/Reboot/RebootNow', action: 'Exec', format: 'null' },
    ]);
    const sim = simulate(t, d);
    const session = await sim.runSession();
    const exec = session.transcript.find((e) => e.verb === 'Exec');
    expect(exec).toMatchObject({ target: './Device/Vendor/MSFT/Reboot/RebootNow' });
    expect(exec).not.toHaveProperty('data'); // no Data, no Meta
    const batch = await readBatch(t, d, r.body.data.id);
    expect(batch.commands.map((c) => [c.status, c.statusCode])).toEqual([['Acknowledged', 200]]);
    expect((batch as unknown as { action: unknown }).action).toEqual({ name: 'reboot' });
  });

  it('sync: Gets of DevInfo/DevDetail whose Results refresh the inventory', async () => {
    const d = await managedDevice(t);
    const r = await post(d, { action: 'sync' });
    expect(r.status).toBe(200);
    const paths = r.body.data.commands.map((c: { config: { path: string; action: string } }) => [
      c.config.action,
      c.config.path,
    ]);
    expect(paths).toEqual(
      expect.arrayContaining([
        ['Get', './DevDetail/SwV'],
        ['Get', './DevDetail/Ext/Microsoft/OSPlatform'],
        ['Get', './DevInfo/Man'],
        ['Get', './DevInfo/Mod'],
        ['Get', './DevDetail/Ext/Microsoft/DeviceName'],
      ]),
    );
    const sim = simulate(t, d, {
      behaviour: {
        values: {
          './DevDetail/SwV': '10.0.26100.1',
          './DevDetail/Ext/Microsoft/OSPlatform': 'Windows 11 Enterprise',
          './DevDetail/Ext/Microsoft/DeviceName': 'FRONT-DESK-7',
        },
      },
    });
    await sim.runSession();
    const batch = await readBatch(t, d, r.body.data.id);
    const swv = batch.commands.find((c) => c.config.path === './DevDetail/SwV');
    expect(swv).toMatchObject({ status: 'Acknowledged', data: [{ value: '10.0.26100.1' }] });
    const { device } = await storedState(t, d.winDeviceId);
    expect(device.inventory).toMatchObject({
      details: {
        SwV: '10.0.26100.1',
        'Ext/Microsoft/OSPlatform': 'Windows 11 Enterprise',
        'Ext/Microsoft/DeviceName': 'FRONT-DESK-7',
      },
    });
  });

  it('wipe: RemoteWipe Exec per mode, with the confirmation → Acknowledged', async () => {
    const d = await managedDevice(t);
    const r = await post(d, { action: 'wipe', mode: 'wipeProtected', confirm: d.deviceId });
    expect(r.status).toBe(200);
    expect(r.body.data.action).toEqual({ name: 'wipe', params: { mode: 'wipeProtected' } });
    expect(r.body.data.commands.map((c: { config: unknown }) => c.config)).toEqual([
      { path: './Device/Vendor/MSFT/RemoteWipe/doWipeProtected', action: 'Exec', format: 'null' },
    ]);
    await simulate(t, d).runSession();
    const batch = await readBatch(t, d, r.body.data.id);
    expect(batch.commands.map((c) => [c.status, c.statusCode])).toEqual([['Acknowledged', 200]]);
  });

  it('wipe without or with a wrong confirmation: 400 5091 naming confirm, nothing queued', async () => {
    const d = await managedDevice(t);
    const missing = await post(d, { action: 'wipe', mode: 'wipe' });
    expectInvalid(missing, 'confirm');
    const wrong = await post(d, { action: 'wipe', mode: 'wipe', confirm: 'SOME-OTHER-DEVICE' });
    expectInvalid(wrong, 'confirm');
    // The Mongo id names the device in URLs, but the confirmation is its Windows id.
    const mongoId = await post(d, { action: 'wipe', mode: 'wipe', confirm: d.winDeviceId });
    expectInvalid(mongoId, 'confirm');
    expect((await storedState(t, d.winDeviceId)).batches).toBe(0);
  });

  it('refuses bad input with 400 5091 naming the field, and an unenrolled device with 5142', async () => {
    const d = await managedDevice(t);
    const cases: [object, string][] = [
      [{ action: 'explode' }, 'action'],
      [{}, 'action'],
      [{ action: 'wipe', mode: 'format', confirm: d.deviceId }, 'mode'],
      [{ ...INSTALL, productId: 'AF9257BA-6BBD-4624-AA9B-0182D50292C3' }, 'productId'],
      [{ ...INSTALL, url: 'http://downloads.example.com/app.msi' }, 'url'],
      [{ ...INSTALL, hash: 'abc' }, 'hash'],
      [{ action: 'installMsi', productId: PRODUCT, hash: HASH }, 'url'],
      [{ action: 'reboot', mode: 'wipe' }, 'mode'],
    ];
    for (const [body, field] of cases) {
      expectInvalid(await post(d, body), field);
    }
    expect((await storedState(t, d.winDeviceId)).batches).toBe(0);

    const gone = await managedDevice(t);
    await simulate(t, gone).runSession({ extraAlerts: [unenrollmentAlert()] });
    expectUnenrolled(await post(gone, { action: 'reboot' }));
  });

  it('needs mdm.windows.device.action', async () => {
    const d = await managedDevice(t);
    const token = t.token({ permissions: ['mdm.windows.command.create'] });
    expectDenied(await post(d, { action: 'reboot' }, token), 'mdm.windows.device.action');
  });

  it('installMsi: Add + Exec with the MsiInstallJob; 202 keeps it Awaiting until the alert', async () => {
    const d = await managedDevice(t);
    const r = await post(d, { ...INSTALL, commandLine: '/quiet /norestart' });
    expect(r.status).toBe(200);
    expect(r.body.data.action).toEqual({
      name: 'installMsi',
      params: { productId: PRODUCT, url: INSTALL.url, hash: HASH },
    });
    const [add, exec] = r.body.data.commands as {
      cmdId: string;
      config: { path: string; action: string; format: string; value?: string };
    }[];
    expect(add.config).toEqual({ path: MSI_NODE(PRODUCT), action: 'Add', format: 'node' });
    expect(exec.config).toMatchObject({ path: MSI_NODE(PRODUCT), action: 'Exec', format: 'xml' });
    expect(exec.config.value).toContain(`<MsiInstallJob id="${PRODUCT}">`);
    expect(exec.config.value).toContain(
      '<ContentURL>https://downloads.example.com/app.msi</ContentURL>',
    );
    expect(exec.config.value).toContain(`<FileHash>${HASH.toUpperCase()}</FileHash>`);
    expect(exec.config.value).toContain('<CommandLine>/quiet /norestart</CommandLine>');

    const sim = simulate(t, d);
    await sim.runSession();
    let batch = await readBatch(t, d, r.body.data.id);
    expect(batch.commands.map((c) => [c.status, c.statusCode])).toEqual([
      ['Acknowledged', 200],
      ['Awaiting', 202],
    ]);
    // The device finished the install: its alert rides the next session, and the held alert for
    // another product moves nothing.
    expect(sim.pendingAlerts).toHaveLength(1);
    const held = sim.pendingAlerts.splice(0);
    await sim.runSession({ extraAlerts: [msiInstallResultAlert(MSI_NODE(OTHER_PRODUCT), '0')] });
    batch = await readBatch(t, d, r.body.data.id);
    expect(batch.commands[1]).toMatchObject({ status: 'Awaiting', statusCode: 202, data: [] });
    // Never sent twice while the device works on it.
    expect(await commandDoc(t, exec.cmdId)).toMatchObject({ attempts: 1 });

    await sim.runSession({ extraAlerts: held });
    batch = await readBatch(t, d, r.body.data.id);
    expect(batch.commands[1]).toMatchObject({
      status: 'Acknowledged',
      statusCode: 202,
      data: [
        {
          path: MSI_NODE(PRODUCT),
          format: 'int',
          type: 'Reversed-Domain-Name:com.microsoft.mdm.win32csp_install',
          value: '0',
        },
      ],
    });
  });

  it('installMsi: a failure HRESULT ends the Exec as an error, with the device data', async () => {
    const d = await managedDevice(t);
    const r = await post(d, INSTALL);
    const sim = simulate(t, d, { behaviour: { msiInstallResult: '0x80070643' } });
    await sim.runSession();
    await sim.runSession();
    const batch = await readBatch(t, d, r.body.data.id);
    expect(batch.commands[1]).toMatchObject({
      status: 'UnexpectedError',
      data: [{ path: MSI_NODE(PRODUCT), value: '0x80070643' }],
    });
  });

  it('a 202 that never gets its alert expires after the timeout, at the next check-in', async () => {
    const d = await managedDevice(t);
    const r = await post(d, INSTALL);
    const execId = r.body.data.commands[1].cmdId as string;
    const sim = simulate(t, d);
    await sim.runSession();
    sim.pendingAlerts.splice(0); // the outcome never comes

    // Within the timeout: still Awaiting, not resent.
    await ageInterimAnswer(execId, TIMEOUT_S / 2);
    await sim.runSession();
    expect(await commandDoc(t, execId)).toMatchObject({ status: 'Awaiting', attempts: 1 });

    await ageInterimAnswer(execId, TIMEOUT_S);
    await sim.runSession();
    const batch = await readBatch(t, d, r.body.data.id);
    expect(batch.commands[1]).toMatchObject({ status: EXPIRED, statusCode: 202 });
    // Once nothing is open, the session stops looking.
    const { device } = await storedState(t, d.winDeviceId);
    expect((device.syncml as Record<string, unknown>).interim).toBeUndefined();
  });

  it('a 101 (in progress) moves on with the later final Status, or expires', async () => {
    const d = await managedDevice(t);
    const r = await post(d, { action: 'reboot' });
    const second = await post(d, { action: 'wipe', mode: 'wipe', confirm: d.deviceId });
    const reboot = r.body.data.commands[0].cmdId as string;
    const wipe = second.body.data.commands[0].cmdId as string;

    const a1 = answerOf(
      await rawPost(
        t,
        d.creds,
        deviceMessage({
          deviceId: d.deviceId,
          sessionId: 'A1',
          msgId: 1,
          commands: openingCommands(d.deviceId),
        }),
      ),
    );
    expect(managementCommands(a1).map((c) => c.cmdId)).toEqual([reboot, wipe]);
    await rawPost(
      t,
      d.creds,
      deviceMessage({
        deviceId: d.deviceId,
        sessionId: 'A1',
        msgId: 2,
        commands: [
          hdrStatus('1', a1.header.msgId),
          statusCmd('2', a1.header.msgId, reboot, 'Exec', '101'),
          statusCmd('3', a1.header.msgId, wipe, 'Exec', '101'),
        ],
      }),
    );
    expect(await commandDoc(t, reboot)).toMatchObject({ status: 'Awaiting', statusCode: '101' });

    // A later session: not resent; the reboot's final Status arrives, the wipe's never does.
    await ageInterimAnswer(wipe, TIMEOUT_S + 1);
    const a2 = answerOf(
      await rawPost(
        t,
        d.creds,
        deviceMessage({
          deviceId: d.deviceId,
          sessionId: 'A2',
          msgId: 1,
          commands: [
            ...openingCommands(d.deviceId),
            statusCmd('9', a1.header.msgId, reboot, 'Exec', '200'),
          ],
        }),
      ),
    );
    expect(managementCommands(a2)).toEqual([]);
    expect(await commandDoc(t, reboot)).toMatchObject({
      status: 'Acknowledged',
      statusCode: '200',
      attempts: 1,
    });
    expect(await commandDoc(t, wipe)).toMatchObject({ status: EXPIRED, attempts: 1 });
  });

  it('an Idempotency-Key retry of an action returns the same batch', async () => {
    const d = await managedDevice(t);
    const send = () =>
      t.http
        .post(actionsUrl(d))
        .set(bearer(d.token))
        .set('Idempotency-Key', 'reboot-once')
        .send({ action: 'reboot' });
    const [a, b] = [await send(), await send()];
    expect(a.status).toBe(200);
    expect(b.body.data.id).toBe(a.body.data.id);
    expect(b.body.data.action).toEqual({ name: 'reboot' });
    expect((await storedState(t, d.winDeviceId)).batches).toBe(1);
    expect(await readDevice(t, d)).toHaveProperty('id');
  });
});
