import { startTestApp, TestApp } from '../support/app';
import {
  answerOf,
  deviceMessage,
  managedDevice,
  Managed,
  openingCommands,
  queue,
  rawPost,
  SYNCML_TYPE,
} from '../support/syncml-device';

const HEADER = 'x-ssl-client-cert';

/** What a TLS-terminating proxy (nginx $ssl_client_escaped_cert) forwards. */
const forwarded = (pem: string) => encodeURIComponent(pem);

describe('management endpoint behind a TLS-terminating proxy (opt-in header)', () => {
  describe('from a trusted proxy address', () => {
    let t: TestApp;
    let d: Managed;
    beforeAll(async () => {
      t = await startTestApp(__filename, {
        DEVICE_CLIENT_CERT_HEADER: HEADER,
        DEVICE_TRUSTED_PROXIES: '127.0.0.1',
      });
      d = await managedDevice(t);
    });
    afterAll(() => t.close());

    const pkg1 = () =>
      deviceMessage({
        deviceId: d.deviceId,
        sessionId: '7',
        msgId: 1,
        commands: openingCommands(d.deviceId),
      });

    it('identifies the device by the forwarded certificate and delivers its commands', async () => {
      const b = await queue(t, d, [{ path: './DevDetail/SwV', action: 'Get', format: 'chr' }]);
      // The proxy connects to the device listener without a client certificate of its own.
      const res = await rawPost(t, null, pkg1(), SYNCML_TYPE, {
        [HEADER]: forwarded(d.creds.certPem),
      });
      expect(res.status).toBe(200);
      const answer = answerOf(res);
      expect(answer.commands.filter((c) => c.kind === 'Get').map((c) => c.cmdId)).toEqual([
        b.commands[0].cmdId,
      ]);
    });

    it('refuses a request without the header (401) and a header that is not a certificate (401)', async () => {
      const none = await rawPost(t, null, pkg1());
      expect(none.status).toBe(401);
      const junk = await rawPost(t, null, pkg1(), SYNCML_TYPE, {
        [HEADER]: forwarded('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'),
      });
      expect(junk.status).toBe(401);
    });

    it('still prefers the TLS client certificate on the device listener', async () => {
      const res = await rawPost(t, d.creds, pkg1());
      expect(res.status).toBe(200);
    });
  });

  it('ignores the header from any other address', async () => {
    const t = await startTestApp(__filename, {
      DEVICE_CLIENT_CERT_HEADER: HEADER,
      DEVICE_TRUSTED_PROXIES: '10.1.2.3',
    });
    try {
      const d = await managedDevice(t);
      const res = await rawPost(
        t,
        null,
        deviceMessage({
          deviceId: d.deviceId,
          sessionId: '7',
          msgId: 1,
          commands: openingCommands(d.deviceId),
        }),
        SYNCML_TYPE,
        { [HEADER]: forwarded(d.creds.certPem) },
      );
      expect(res.status).toBe(401);
    } finally {
      await t.close();
    }
  });
});
