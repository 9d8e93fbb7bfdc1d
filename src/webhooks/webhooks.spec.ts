import { isForbiddenAddress } from './address-guard';
import { retryDelay } from './webhook-worker';
import { signatureHeader, verifySignature } from './webhook-signer';
import { wants } from './webhooks.types';

describe('isForbiddenAddress', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    '::ffff:127.0.0.1',
    '::ffff:10.1.2.3',
    'not-an-ip',
  ])('refuses %s', (ip) => expect(isForbiddenAddress(ip)).toBe(true));

  it.each([
    '8.8.8.8',
    '172.32.0.1',
    '192.169.0.1',
    '100.128.0.1',
    '2001:4860:4860::8888',
    '::ffff:8.8.8.8',
  ])('allows %s', (ip) => expect(isForbiddenAddress(ip)).toBe(false));
});

describe('retryDelay', () => {
  it('doubles from the base, keeps at least half of it, and stops at the cap', () => {
    expect([1, 2, 3, 4].map((n) => retryDelay(n, 1000, 60_000, 0))).toEqual([
      500, 1000, 2000, 4000,
    ]);
    expect([1, 2, 3, 4].map((n) => retryDelay(n, 1000, 60_000, 1))).toEqual([
      1000, 2000, 4000, 8000,
    ]);
    expect(retryDelay(30, 1000, 60_000, 0.5)).toBe(45_000);
  });
});

describe('signatures', () => {
  const body = '{"id":"evt_1","type":"ping"}';
  const now = 1_780_000_000_000;
  const t = now / 1000;

  it('verifies with each signing secret and with no other', () => {
    const header = signatureHeader(['whsec_new', 'whsec_old'], t, body);
    expect(header).toMatch(/^t=1780000000,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    expect(verifySignature(header, body, 'whsec_new', now)).toBe(true);
    expect(verifySignature(header, body, 'whsec_old', now)).toBe(true);
    expect(verifySignature(header, body, 'whsec_other', now)).toBe(false);
    expect(verifySignature(header, `${body} `, 'whsec_new', now)).toBe(false);
  });

  it('refuses a timestamp outside the tolerance (a replayed delivery)', () => {
    const header = signatureHeader(['s'], t - 301, body);
    expect(verifySignature(header, body, 's', now)).toBe(false);
    expect(verifySignature(header, body, 's', now, 400)).toBe(true);
  });
});

describe('wants', () => {
  const sub = { active: true, events: ['device.alert'], deviceIds: [] as string[] };
  it('filters on type, device and active', () => {
    expect(wants(sub, 'device.alert', 'd1')).toBe(true);
    expect(wants(sub, 'device.enrolled', 'd1')).toBe(false);
    expect(wants({ ...sub, events: ['*'] }, 'device.enrolled', 'd1')).toBe(true);
    expect(wants({ ...sub, deviceIds: ['d2'] }, 'device.alert', 'd1')).toBe(false);
    expect(wants({ ...sub, deviceIds: ['d2'] }, 'device.alert', 'd2')).toBe(true);
    expect(wants({ ...sub, active: false }, 'device.alert', 'd1')).toBe(false);
  });
});
