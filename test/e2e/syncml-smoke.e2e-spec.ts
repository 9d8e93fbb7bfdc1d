import { request as httpsRequest } from 'node:https';
import { bearer, startTestApp, TestApp } from '../support/app';
import { makeDeviceCredentials, DeviceCredentials } from '../support/device-certs';
import { commandsUrl, seedDevice, Seeded } from '../support/seed';
import { parseSyncml } from '../../src/syncml/codec';

function post(
  t: TestApp,
  creds: DeviceCredentials | null,
  body: string,
  type = 'application/vnd.syncml.dm+xml',
) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpsRequest(
      `${t.deviceBaseUrl}/ManagementServer/MDM.svc?mode=Maintenance&Platform=WoA`,
      {
        method: 'POST',
        rejectUnauthorized: false,
        cert: creds?.certPem,
        key: creds?.keyPem,
        headers: { 'Content-Type': type },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const first = (deviceId: string, session = '1') =>
  `<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>${session}</SessionID><MsgID>1</MsgID><Target><LocURI>https://x/ManagementServer/MDM.svc</LocURI></Target><Source><LocURI>${deviceId}</LocURI></Source></SyncHdr><SyncBody><Alert><CmdID>1</CmdID><Data>1201</Data></Alert><Replace><CmdID>2</CmdID><Item><Source><LocURI>./DevInfo/Man</LocURI></Source><Data>Contoso</Data></Item></Replace><Final/></SyncBody></SyncML>`;

describe('SyncML smoke', () => {
  let t: TestApp;
  let s: Seeded;
  let creds: DeviceCredentials;
  beforeAll(async () => {
    t = await startTestApp(__filename);
    s = await seedDevice(t);
    creds = await makeDeviceCredentials(s.deviceId);
    const r = await t.http
      .patch(`/v1/organizations/${s.slug}/mdm/windows/enterprise/devices/${s.deviceId}`)
      .set(bearer(s.token))
      .send({ certificate: creds.certPem });
    expect(r.status).toBe(200);
  });
  afterAll(() => t.close());

  it('delivers a queued command and records its status', async () => {
    const q = await t.http
      .post(commandsUrl(s))
      .set(bearer(s.token))
      .send({ commands: [{ config: { path: './DevDetail/SwV', action: 'Get', format: 'chr' } }] });
    expect(q.status).toBe(200);
    const cmdId = q.body.data.commands[0].cmdId;
    const r1 = await post(t, creds, first(s.deviceId));
    expect(r1.status).toBe(200);
    const m1 = parseSyncml(r1.body);
    const get = m1.commands.find((c) => c.kind === 'Get');
    expect(get?.cmdId).toBe(cmdId);
    const reply = `<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>2</MsgID><Target><LocURI>https://x/ManagementServer/MDM.svc</LocURI></Target><Source><LocURI>${s.deviceId}</LocURI></Source></SyncHdr><SyncBody><Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data></Status><Status><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>${cmdId}</CmdRef><Cmd>Get</Cmd><Data>200</Data></Status><Results><CmdID>3</CmdID><MsgRef>1</MsgRef><CmdRef>${cmdId}</CmdRef><Item><Source><LocURI>./DevDetail/SwV</LocURI></Source><Meta><Format xmlns="syncml:metinf">chr</Format></Meta><Data>10.0.22631</Data></Item></Results><Final/></SyncBody></SyncML>`;
    const r2 = await post(t, creds, reply);
    expect(r2.status).toBe(200);
    const b = await t.http.get(`${commandsUrl(s)}${q.body.data.id}`).set(bearer(s.token));
    expect(b.body.data.commands[0]).toMatchObject({
      status: 'Acknowledged',
      statusCode: 200,
      data: [{ path: './DevDetail/SwV', format: 'chr', value: '10.0.22631' }],
    });
    const r3 = await post(t, creds, reply);
    expect(r3.body).toBe(r2.body);
    expect(await post(t, null, first(s.deviceId))).toMatchObject({ status: 401 });
    expect(await post(t, creds, first('OTHER'))).toMatchObject({ status: 403 });
    expect(await post(t, creds, first(s.deviceId), 'text/xml')).toMatchObject({ status: 415 });
  });
});
