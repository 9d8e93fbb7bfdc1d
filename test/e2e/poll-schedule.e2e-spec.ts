import { PushService } from '../../src/push/push.service';
import { bearer, startTestApp, TestApp } from '../support/app';
import { commandsUrl } from '../support/seed';
import { managedDevice, Managed } from '../support/syncml-device';

const enterpriseUrl = (d: Managed) => `/v1/organizations/${d.slug}/mdm/windows/enterprise`;

describe('A poll schedule change that fails part-way', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(__filename);
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  const pollBatches = async (d: Managed, as: Managed) => {
    const r = await t.http.get(commandsUrl(d)).set(bearer(as.token));
    return (r.body.data.docs as { name: string }[]).filter((b) => b.name === 'poll schedule');
  };
  const patch = (d: Managed) =>
    t.http
      .patch(enterpriseUrl(d))
      .set(bearer(d.token))
      .send({ pollSchedule: { steadyIntervalMinutes: 240 } });

  it('is queued to the devices it missed when the same change is sent again, and then no more', async () => {
    const first = await managedDevice(t);
    const second = await managedDevice(t, first);
    // Devices are queued in id order: the wake after the first device's batch fails.
    jest.spyOn(t.app.get(PushService), 'wake').mockImplementationOnce(() => {
      throw new Error('wake failed');
    });
    expect((await patch(first)).status).toBe(500);
    expect(await pollBatches(first, first)).toHaveLength(1);
    expect(await pollBatches(second, first)).toHaveLength(0);

    expect((await patch(first)).status).toBe(200);
    expect(await pollBatches(second, first)).toHaveLength(1);
    const firstAfterRetry = (await pollBatches(first, first)).length;

    // Done: the same schedule again queues nothing.
    expect((await patch(first)).status).toBe(200);
    expect(await pollBatches(second, first)).toHaveLength(1);
    expect(await pollBatches(first, first)).toHaveLength(firstAfterRetry);
  });
});
