import { parseXmlSafely } from '../../common/xml';
import { compileDeviceAction, parseDeviceAction, type DeviceActionInput } from './device-actions';

const PRODUCT = '{af9257ba-6bbd-4624-aa9b-0182d50292c3}';
const HASH = 'C0'.repeat(32);

function compiled(input: DeviceActionInput) {
  const parsed = parseDeviceAction(input);
  if (!('ok' in parsed)) throw new Error(JSON.stringify(parsed.problems));
  return compileDeviceAction(parsed.ok);
}

const fieldsOf = (input: DeviceActionInput) => {
  const parsed = parseDeviceAction(input);
  return 'problems' in parsed ? parsed.problems.map((p) => p.field) : [];
};

describe('device actions', () => {
  it('names every bad field of an installMsi at once', () => {
    expect(
      fieldsOf({
        action: 'installMsi',
        productId: 'AF9257BA',
        url: 'ftp://x',
        hash: 'zz',
        version: 'one',
      }),
    ).toEqual(['productId', 'url', 'hash', 'version']);
  });

  it('refuses a field of another action', () => {
    expect(fieldsOf({ action: 'sync', confirm: 'X', url: 'https://a.example' })).toEqual([
      'confirm',
      'url',
    ]);
  });

  it('writes the MsiInstallJob as XML, escaping what the URL and command line carry', () => {
    const c = compiled({
      action: 'installMsi',
      productId: PRODUCT,
      url: 'https://cdn.example.com/app.msi?a=1&b=<2>',
      hash: HASH,
      commandLine: '/quiet PROP="x&y"',
    });
    expect(c.configs.map((x) => [x.action, x.path])).toEqual([
      [
        'Add',
        `./Device/Vendor/MSFT/EnterpriseDesktopAppManagement/MSI/${PRODUCT.toUpperCase()}/DownloadInstall`,
      ],
      [
        'Exec',
        `./Device/Vendor/MSFT/EnterpriseDesktopAppManagement/MSI/${PRODUCT.toUpperCase()}/DownloadInstall`,
      ],
    ]);
    const job = parseXmlSafely(c.configs[1].value!, { maxBytes: 64 * 1024 });
    expect(job.name).toBe('MsiInstallJob');
    const text = c.configs[1].value!;
    expect(text).toContain('https://cdn.example.com/app.msi?a=1&amp;b=&lt;2&gt;');
    expect(text).toContain('/quiet PROP="x&amp;y"');
    expect(c.action).toEqual({
      name: 'installMsi',
      params: {
        productId: PRODUCT.toUpperCase(),
        url: 'https://cdn.example.com/app.msi?a=1&b=<2>',
        hash: HASH.toLowerCase(),
      },
    });
  });

  it('never records the wipe confirmation on the batch', () => {
    const c = compiled({ action: 'wipe', mode: 'wipePersistProvisionedData', confirm: 'DEV1' });
    expect(c.configs).toEqual([
      {
        path: './Device/Vendor/MSFT/RemoteWipe/doWipePersistProvisionedData',
        action: 'Exec',
        format: 'null',
      },
    ]);
    expect(JSON.stringify(c.action)).not.toContain('DEV1');
  });
});
