import { request as httpsRequest } from 'node:https';
import { ManagementEndpoint } from '../../src/syncml/management-endpoint';
import { SyncmlSessionService } from '../../src/syncml/syncml-session.service';
import { startTestApp, TestApp } from '../support/app';
import { beforeNextCall } from '../support/interleave';
import {
  deviceMessage,
  managedDevice,
  Managed,
  openingCommands,
  rawPost,
  readDevice,
  SYNCML_TYPE,
} from '../support/syncml-device';

/**
 * Admission of management messages (decisions.md §50): one served at a time and one waiting
 * here, so the third is refused at once with 429 and Retry-After, and a waiting message whose
 * device hung up is dropped without being read.
 */
describe('admission of management messages', () => {
  let t: TestApp;
  let endpoint: ManagementEndpoint;
  let session: SyncmlSessionService;
  let devices: Managed[];
  beforeAll(async () => {
    t = await startTestApp(__filename, {
      SYNCML_MAX_CONCURRENT: '1',
      SYNCML_MAX_QUEUED: '1',
      SYNCML_MAX_QUEUE_WAIT_SECONDS: '600',
      SYNCML_BUSY_RETRY_AFTER_SECONDS: '45',
    });
    endpoint = t.app.get(ManagementEndpoint);
    session = t.app.get(SyncmlSessionService);
    const first = await managedDevice(t);
    devices = [first];
    for (let i = 0; i < 3; i++) devices.push(await managedDevice(t, first));
  });
  afterAll(() => t.close());

  const opening = (d: Managed, sessionId: string) =>
    deviceMessage({
      deviceId: d.deviceId,
      sessionId,
      msgId: 1,
      commands: openingCommands(d.deviceId),
    });

  /** Lets the server's event loop run until `done` holds (no wall-clock wait). */
  async function until(done: () => boolean): Promise<void> {
    for (let i = 0; i < 100_000 && !done(); i++) await new Promise((r) => setImmediate(r));
    expect(done()).toBe(true);
  }

  /** The next message is held inside the session until `release()`. */
  function holdNextMessage(): { entered: Promise<void>; release: () => void } {
    let release!: () => void;
    let entered!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const inside = new Promise<void>((r) => (entered = r));
    beforeNextCall(session, 'handle', async () => {
      entered();
      await held;
    });
    return { entered: inside, release };
  }

  it('serves the queued message after the one in flight and refuses the next with 429', async () => {
    const [a, b, c] = devices;
    const hold = holdNextMessage();
    const first = rawPost(t, a.creds, opening(a, '11'));
    await hold.entered;
    expect(endpoint.gate.inFlight).toBe(1);

    const second = rawPost(t, b.creds, opening(b, '12'));
    await until(() => endpoint.gate.queued === 1);

    const third = await rawPost(t, c.creds, opening(c, '13'));
    expect(third).toMatchObject({ status: 429, retryAfter: '45', body: 'Busy, retry later' });
    // Refused before the session: the device was not seen.
    expect((await readDevice(t, c)).lastSeenAt ?? null).toBeNull();

    hold.release();
    const [r1, r2] = await Promise.all([first, second]);
    expect(r1.status).toBe(200);
    expect(r2.status).toBe(200);
    expect(r2.contentType).toContain(SYNCML_TYPE);
    expect((await readDevice(t, b)).lastSeenAt).toEqual(expect.any(String));
    expect(endpoint.gate.inFlight).toBe(0);
    expect(endpoint.gate.queued).toBe(0);

    // Refused once is not refused forever: the retry is served.
    expect((await rawPost(t, c.creds, opening(c, '14'))).status).toBe(200);
  });

  it('drops a waiting message whose device hung up, without reading it', async () => {
    const [a, , , d] = devices;
    const hold = holdNextMessage();
    const first = rawPost(t, a.creds, opening(a, '21'));
    await hold.entered;

    // The spy holding the first message records every message the session reads.
    const handled = jest.spyOn(session, 'handle');
    const readBefore = handled.mock.calls.length;
    const body = Buffer.from(opening(d, '22'));
    const req = httpsRequest(`${t.deviceBaseUrl}/ManagementServer/MDM.svc?mode=Maintenance`, {
      method: 'POST',
      rejectUnauthorized: false,
      agent: false,
      cert: d.creds.certPem,
      key: d.creds.keyPem,
      headers: { 'Content-Type': SYNCML_TYPE, 'Content-Length': body.length },
    });
    const closed = new Promise<void>((resolve) => req.on('close', () => resolve()));
    req.on('error', () => undefined);
    req.end(body);
    await until(() => endpoint.gate.queued === 1);
    req.destroy();
    await closed;
    // The server sees the connection close and takes the message out of the queue.
    await until(() => endpoint.gate.queued === 0);

    hold.release();
    expect((await first).status).toBe(200);
    await until(() => endpoint.gate.queued === 0 && endpoint.gate.inFlight === 0);
    const read = handled.mock.calls.slice(readBefore).map((c) => String(c[0]));
    expect(read.some((m) => m.includes(d.deviceId))).toBe(false);
    expect(endpoint.gate.takeRefused()).toMatchObject({ gone: 1 });
    expect((await readDevice(t, d)).lastSeenAt ?? null).toBeNull();
  });
});
