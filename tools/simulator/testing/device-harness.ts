import { SimulatedDevice } from '../device';
import type { SimulatedDeviceOptions } from '../types';
import { FakeMdmServer, type FakeScript } from './fake-server';
import { createTestPki, type PemPair, type TestPki } from './pki';

export interface DeviceHarness {
  /** The test CA and server certificate (made once for the describe block). */
  pki(): TestPki;
  /** The device's client certificate (issued once for the describe block). */
  client(): PemPair;
  /**
   * A fake server playing `script` and a device for it: `options` gives the device's options for
   * that server (the harness adds nothing); both are closed after the test.
   */
  setUp(
    script: FakeScript,
    options: (server: FakeMdmServer) => SimulatedDeviceOptions,
  ): Promise<{ server: FakeMdmServer; device: SimulatedDevice }>;
}

/**
 * A test PKI with a client certificate for `deviceId`, and a fake server and device per test,
 * closed after it. Call inside a describe block: it registers that block's beforeAll/afterEach.
 */
export function deviceHarness(deviceId: string): DeviceHarness {
  let pki: TestPki;
  let client: PemPair;
  let server: FakeMdmServer | undefined;
  let device: SimulatedDevice | undefined;

  beforeAll(async () => {
    pki = await createTestPki();
    client = await pki.issueClient(deviceId);
  });
  afterEach(async () => {
    device?.close();
    await server?.close();
    device = server = undefined;
  });

  return {
    pki: () => pki,
    client: () => client,
    async setUp(script, options) {
      const s = (server = await FakeMdmServer.start(pki.server, script));
      const d = (device = new SimulatedDevice(options(s)));
      return { server: s, device: d };
    },
  };
}
