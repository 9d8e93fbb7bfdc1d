import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSyncml } from './codec';
import { digestDeviceMessage } from './device-message';

const fixture = (name: string) =>
  parseSyncml(readFileSync(join(__dirname, 'codec/fixtures', name)));

describe('digestDeviceMessage', () => {
  it('answers package 1 in order and reads DevInfo and LoginStatus', () => {
    const msg = fixture('first-message.xml');
    const d = digestDeviceMessage(msg);
    expect(d.sessionStart).toBe(true);
    expect(d.statuses.map((s) => [s.cmdId, s.cmdRef, s.cmd, s.data, s.msgRef])).toEqual(
      msg.commands.map((c, i) => [String(i + 2), c.cmdId, c.kind, '200', msg.header.msgId]),
    );
    expect(d.inventory).toMatchObject({ devId: msg.header.source });
    expect(d.inventory.manufacturer).toBeTruthy();
    expect(d.loginStatus).toBe('user');
    expect(d.reports).toEqual([]);
  });

  it('collects device statuses and results without answering them', () => {
    const msg = fixture('statuses-results.xml');
    const d = digestDeviceMessage(msg);
    expect(d.statuses).toEqual([]);
    expect(d.reports.length).toBeGreaterThan(0);
    expect(d.reports.every((r) => r.cmdRef !== '0')).toBe(true);
    expect(d.results.length).toBeGreaterThan(0);
    expect(d.results[0].items[0].path).toMatch(/^\.\//);
  });

  it('flags the user-unenrollment generic alert and keeps it as an event', () => {
    const d = digestDeviceMessage(fixture('generic-alert-unenroll.xml'));
    expect(d.unenroll).toBe(true);
    expect(d.alerts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          alertCode: '1226',
          type: 'com.microsoft:mdm.unenrollment.userrequest',
          data: '1',
        }),
      ]),
    );
  });

  it('flags 1223 abort', () => {
    expect(digestDeviceMessage(fixture('abort-1223.xml')).abort).toBe(true);
  });

  it('answers server-only verbs from a device with 405', () => {
    const msg = parseSyncml(
      '<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>3</MsgID><Target><LocURI>s</LocURI></Target><Source><LocURI>D</LocURI></Source></SyncHdr><SyncBody><Get><CmdID>7</CmdID><Item><Target><LocURI>./A</LocURI></Target></Item></Get><Final/></SyncBody></SyncML>',
    );
    expect(digestDeviceMessage(msg).statuses).toEqual([
      expect.objectContaining({ cmdId: '2', msgRef: '3', cmdRef: '7', cmd: 'Get', data: '405' }),
    ]);
  });
});
