import { enrollmentClientAddress } from './client-address';

describe('enrollmentClientAddress', () => {
  const proxies = ['10.0.0.10', '10.0.0.11'];

  it('is the socket address when no proxy is trusted or the peer is not one', () => {
    expect(enrollmentClientAddress('::ffff:192.0.2.7', undefined, [])).toBe('192.0.2.7');
    expect(enrollmentClientAddress('192.0.2.7', '203.0.113.5', [])).toBe('192.0.2.7');
    // A client that sends the header itself gains nothing.
    expect(enrollmentClientAddress('192.0.2.7', '203.0.113.5', proxies)).toBe('192.0.2.7');
    expect(enrollmentClientAddress(undefined, '203.0.113.5', proxies)).toBe('unknown');
  });

  it('takes the forwarded client from a trusted proxy (IPv4-mapped socket addresses too)', () => {
    expect(enrollmentClientAddress('10.0.0.10', '203.0.113.5', proxies)).toBe('203.0.113.5');
    expect(enrollmentClientAddress('::ffff:10.0.0.11', ' 2001:db8::1 ', proxies)).toBe(
      '2001:db8::1',
    );
    expect(enrollmentClientAddress('10.0.0.10', '::ffff:203.0.113.5', proxies)).toBe('203.0.113.5');
    expect(enrollmentClientAddress('10.0.0.10', undefined, proxies)).toBe('10.0.0.10');
  });

  it('ignores what the client prepended: the right-most entry not a trusted proxy wins', () => {
    expect(enrollmentClientAddress('10.0.0.10', '198.51.100.1, 203.0.113.5', proxies)).toBe(
      '203.0.113.5',
    );
    expect(
      enrollmentClientAddress('10.0.0.10', ['198.51.100.1', '203.0.113.5, 10.0.0.11'], proxies),
    ).toBe('203.0.113.5');
  });

  it("falls back to the proxy's address when the entry is not an address", () => {
    expect(enrollmentClientAddress('10.0.0.10', 'unknown', proxies)).toBe('10.0.0.10');
    expect(enrollmentClientAddress('10.0.0.10', '203.0.113.5, junk', proxies)).toBe('10.0.0.10');
    expect(enrollmentClientAddress('10.0.0.10', ' , ', proxies)).toBe('10.0.0.10');
    expect(enrollmentClientAddress('10.0.0.10', '10.0.0.11', proxies)).toBe('10.0.0.10');
  });
});
