import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { package2, status } from './fixtures/server-package2';
import { buildSyncml } from './syncml-write';
import { parseSyncml } from './syncml-parse';
import type { SyncmlCommand, SyncmlMessage } from './syncml.types';

const fixture = (name: string): string =>
  readFileSync(join(__dirname, 'fixtures', name), 'utf8').trimEnd();

describe('buildSyncml', () => {
  it('writes a server package in DTD order, byte for byte', () => {
    expect(buildSyncml(package2)).toBe(fixture('server-package2.xml'));
  });

  it('omits the declaration and Final on request', () => {
    const xml = buildSyncml({ ...package2, final: false }, { headless: true });
    expect(xml.startsWith('<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr>')).toBe(true);
    expect(xml).not.toContain('Final');
  });

  it('refuses to build an element Windows does not use', () => {
    const bad = {
      ...package2,
      commands: [{ kind: 'Unsupported', element: 'Put', cmdId: '9' } as const],
    };
    expect(() => buildSyncml(bad)).toThrow(TypeError);
  });
});

const AWKWARD = [
  '&amp;',
  '&lt;',
  '&#65;',
  ']]>',
  '<',
  '"q" \'a\'',
  'x&y',
  ' 0012 ',
  'é😀',
  'a\r\nb',
];

describe('build → parse round trips', () => {
  it.each(AWKWARD)('keeps %j in every field', (v) => {
    const message: SyncmlMessage = {
      header: {
        verDTD: '1.2',
        verProto: 'DM/1.2',
        sessionId: v,
        msgId: v,
        target: v,
        source: v,
        cred: { meta: { type: v, format: v }, data: v },
        meta: { maxMsgSize: v, maxObjSize: v },
      },
      commands: [
        {
          ...(status(v, v, v) as Extract<SyncmlCommand, { kind: 'Status' }>),
          originalError: v,
          targetRef: [v],
          sourceRef: [v],
        },
        {
          kind: 'Results',
          cmdId: v,
          msgRef: v,
          cmdRef: v,
          cmd: v,
          meta: { format: v },
          targetRef: [],
          sourceRef: [],
          items: [
            { source: v, meta: { format: v, type: v, mark: v, size: v }, data: v, moreData: true },
          ],
        },
        { kind: 'Alert', cmdId: v, data: v, items: [{ target: v, source: v, data: v }] },
        {
          kind: 'Sequence',
          cmdId: v,
          noResp: true,
          commands: [{ kind: 'Get', cmdId: v, items: [{ target: v }] }],
        },
      ],
      final: true,
    };
    expect(parseSyncml(buildSyncml(message))).toEqual(message);
  });

  it.each([
    'first-message.xml',
    'statuses-results.xml',
    'generic-alert-unenroll.xml',
    'next-message-1222.xml',
    'abort-1223.xml',
    'atomic-sequence.xml',
  ])('%s survives parse → build → parse', (name) => {
    const parsed = parseSyncml(fixture(name));
    const buildable = {
      ...parsed,
      commands: parsed.commands.filter((c) => c.kind !== 'Unsupported'),
    };
    expect(parseSyncml(buildSyncml(buildable))).toEqual(buildable);
  });
});
