import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nextSessionArgs, parseEnrollArgs } from './enroll-cli';

const enrolled = {
  managementUrl: 'https://mdm.example.com:8443/ManagementServer/MDM.svc',
  identity: { deviceId: '0F1E2D3C', cert: '', key: '' },
};
const base = ['--enroll', '--server', 'https://mdm.example.com:8443', '--email', 'a@contoso.com'];

describe('simulate --enroll', () => {
  it('prints the arguments of the next session from the saved identity', () => {
    const req = parseEnrollArgs([...base, '--secret', 'S', '--out', '/tmp/my sims', '--insecure']);
    expect(nextSessionArgs(req, enrolled)).toBe(
      `--server ${enrolled.managementUrl} --cert-dir '/tmp/my sims' --device 0F1E2D3C --insecure`,
    );
  });

  it('repeats the --ca file rather than --insecure when one was given', () => {
    const dir = mkdtempSync(join(tmpdir(), "it's-"));
    try {
      const ca = join(dir, 'ca.pem');
      writeFileSync(ca, 'PEM');
      const req = parseEnrollArgs([...base, '--secret', 'S', '--ca', ca]);
      expect(nextSessionArgs(req, enrolled)).toBe(
        `--server ${enrolled.managementUrl} --cert-dir data/simulator-identities ` +
          `--device 0F1E2D3C --ca '${ca.replace("'", "'\\''")}'`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
