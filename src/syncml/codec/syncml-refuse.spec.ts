import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SyncmlDecodeError, type SyncmlDecodeErrorReason } from './syncml-decode-error';
import { parseSyncml } from './syncml-parse';

const fixture = (name: string): Buffer =>
  readFileSync(join(__dirname, 'fixtures', 'malformed', name));

function refusal(body: Buffer | string): { reason: SyncmlDecodeErrorReason; xml?: string } {
  try {
    parseSyncml(body);
  } catch (err) {
    expect(err).toBeInstanceOf(SyncmlDecodeError);
    const e = err as SyncmlDecodeError;
    return e.xmlReason ? { reason: e.reason, xml: e.xmlReason } : { reason: e.reason };
  }
  throw new Error('expected the message to be refused');
}

describe('parseSyncml refuses unsafe and malformed messages with a typed error', () => {
  it.each([
    ['xxe.xml', { reason: 'invalid-xml', xml: 'forbidden-markup' }],
    ['billion-laughs.xml', { reason: 'invalid-xml', xml: 'forbidden-markup' }],
    ['deep-nesting.xml', { reason: 'invalid-xml', xml: 'too-deep' }],
    ['mismatched.xml', { reason: 'invalid-xml', xml: 'malformed' }],
    ['truncated.xml', { reason: 'invalid-xml', xml: 'malformed' }],
    ['bare-ampersand.xml', { reason: 'invalid-xml', xml: 'malformed' }],
    ['undeclared-entity.xml', { reason: 'invalid-xml', xml: 'malformed' }],
    ['wrong-namespace.xml', { reason: 'not-syncml' }],
    ['no-namespace.xml', { reason: 'not-syncml' }],
    ['no-synchdr.xml', { reason: 'missing-element' }],
    ['no-syncbody.xml', { reason: 'missing-element' }],
    ['missing-session-id.xml', { reason: 'missing-element' }],
    ['empty-session-id.xml', { reason: 'missing-element' }],
    ['missing-source.xml', { reason: 'missing-element' }],
    ['wrong-verdtd.xml', { reason: 'unsupported-version' }],
    ['foreign-synchdr.xml', { reason: 'foreign-namespace' }],
    ['foreign-syncbody.xml', { reason: 'foreign-namespace' }],
    ['foreign-session-id.xml', { reason: 'foreign-namespace' }],
    ['foreign-source-locuri.xml', { reason: 'foreign-namespace' }],
    ['foreign-command.xml', { reason: 'foreign-namespace' }],
  ])('%s', (name, expected) => {
    expect(refusal(fixture(name))).toEqual(expected);
  });

  it('names the element in a foreign namespace', () => {
    expect(() => parseSyncml(fixture('foreign-synchdr.xml'))).toThrow(
      'SyncML/SyncHdr is in namespace "urn:evil"',
    );
  });

  it('accepts the SyncML namespace however it is spelled, and Meta children in syncml:metinf', () => {
    // A prefix instead of a default namespace is the same namespace (XML Namespaces §6).
    const msg = parseSyncml(
      '<s:SyncML xmlns:s="SYNCML:SYNCML1.2" xmlns:m="syncml:metinf"><s:SyncHdr>' +
        '<s:VerDTD>1.2</s:VerDTD><s:VerProto>DM/1.2</s:VerProto><s:SessionID>1</s:SessionID>' +
        '<s:MsgID>1</s:MsgID><s:Source><s:LocURI>dev</s:LocURI></s:Source>' +
        '<s:Meta><m:MaxMsgSize>512</m:MaxMsgSize></s:Meta></s:SyncHdr><s:SyncBody>' +
        '<s:Replace><s:CmdID>2</s:CmdID><s:Item><s:Source><s:LocURI>./DevInfo/Man</s:LocURI>' +
        '</s:Source><s:Data>x</s:Data></s:Item></s:Replace><s:Final/></s:SyncBody></s:SyncML>',
    );
    expect(msg.header).toMatchObject({
      sessionId: '1',
      source: 'dev',
      meta: { maxMsgSize: '512' },
    });
    expect(msg.commands.map((c) => c.kind)).toEqual(['Replace']);
    expect(msg.final).toBe(true);
  });

  it('names the missing field', () => {
    expect(() => parseSyncml(fixture('missing-session-id.xml'))).toThrow('SyncHdr/SessionID');
    expect(() => parseSyncml(fixture('missing-source.xml'))).toThrow('SyncHdr/Source');
  });

  it('refuses 10,000 levels of nesting and 60,000 attributes in milliseconds', () => {
    const valid = readFileSync(join(__dirname, 'fixtures', 'first-message.xml'), 'utf8');
    const deep = valid.replace('<Final/>', '<Atomic>'.repeat(10000) + '</Atomic>'.repeat(10000));
    const wide = valid.replace(
      '<Final/>',
      `<Final${Array.from({ length: 60000 }, (_, i) => ` a${i}="v"`).join('')}/>`,
    );
    const t = performance.now();
    expect(refusal(deep)).toEqual({ reason: 'invalid-xml', xml: 'too-deep' });
    expect(refusal(wide)).toEqual({ reason: 'invalid-xml', xml: 'too-many-attributes' });
    expect(performance.now() - t).toBeLessThan(500);
  });

  it('refuses invalid UTF-8, illegal characters and oversize bodies', () => {
    const valid = readFileSync(join(__dirname, 'fixtures', 'first-message.xml'));
    const at = valid.indexOf('Contoso');
    const bad = Buffer.concat([
      valid.subarray(0, at),
      Buffer.from([0xc3, 0x28]),
      valid.subarray(at),
    ]);
    expect(refusal(bad)).toEqual({ reason: 'invalid-xml', xml: 'invalid-utf8' });
    expect(refusal(valid.toString('utf8').replace('Contoso', 'Con\u0001toso'))).toEqual({
      reason: 'invalid-xml',
      xml: 'illegal-char',
    });
    expect(() => parseSyncml(valid, { maxBytes: 100 })).toThrow(
      expect.objectContaining({ reason: 'invalid-xml', xmlReason: 'too-large' }),
    );
  });
});
