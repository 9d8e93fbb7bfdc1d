import { deviceHeader } from './messages';
import { SimulatedDevice } from './device';

// What tests do to a simulated device between sessions: read its values, change one behind the
// server's back (drift), and what it announces in its SyncHdr.

const P = './Device/Vendor/MSFT/Policy/Config/Test/Level';

function device(): SimulatedDevice {
  return new SimulatedDevice({
    deviceId: 'SIMDRIFT',
    cert: '',
    key: '',
    serverUrl: 'https://127.0.0.1:9',
    behaviour: { values: { [P]: { data: '1', format: 'int', type: 'text/plain' } } },
  });
}

describe('SimulatedDevice values', () => {
  it('changes a value behind the server’s back, keeping its format unless told', () => {
    const d = device();
    expect(d.valueOf(P)).toBe('1');
    d.drift(P, '2');
    expect(d.valueOf(P)).toBe('2');
    expect(d.tree.read(P)).toEqual({
      kind: 'leaf',
      value: { data: '2', format: 'int', type: 'text/plain' },
    });
    d.drift('./Device/Vendor/MSFT/New', '<a/>', 'xml');
    expect(d.tree.read('./Device/Vendor/MSFT/New')).toEqual({
      kind: 'leaf',
      value: { data: '<a/>', format: 'xml' },
    });
    d.close();
  });

  it('has no value for a node never set or an interior node', () => {
    const d = device();
    expect(d.valueOf('./Device/Vendor/MSFT/Nothing')).toBeUndefined();
    expect(d.valueOf('./Device/Vendor/MSFT/Policy')).toBeUndefined();
    d.close();
  });
});

describe('deviceHeader', () => {
  it.each([
    [{}, undefined],
    [{ maxMsgSize: 16384 }, { maxMsgSize: '16384' }],
    [{ maxObjSize: 65536 }, { maxObjSize: '65536' }],
    [
      { maxMsgSize: 16384, maxObjSize: 65536 },
      { maxMsgSize: '16384', maxObjSize: '65536' },
    ],
  ])('announces %j as SyncHdr Meta %j', (limits, meta) => {
    const h = deviceHeader({
      sessionId: '1',
      msgId: 1,
      serverUrl: 'https://s',
      source: 'D',
      ...limits,
    });
    expect(h.meta).toEqual(meta);
  });
});
