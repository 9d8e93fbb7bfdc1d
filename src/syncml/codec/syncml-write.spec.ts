import fc from 'fast-check';
import { buildSyncmlTree, type SyncmlMessageInput } from './syncml-build';
import { buildSyncml } from './syncml-write';
import type { SyncmlCommand, SyncmlItem, SyncmlMeta } from './syncml.types';

// The string writer against the element-tree builder (xmlbuilder2) it replaces on the hot path:
// the same bytes, or the same error, for any message. Reproduce a failure with the seed
// fast-check prints (FUZZ_SEED=<seed>); FUZZ_RUNS sets the runs.
const SEED = Number(process.env.FUZZ_SEED ?? 20_260_911);
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

// Values that exercise every escaping rule, entity look-alikes (xmlbuilder2 #117), characters XML
// 1.0 forbids, and non-ASCII text.
const SPECIAL = fc.constantFrom(
  '&',
  '<',
  '>',
  '"',
  "'",
  '\r',
  '\n',
  '\t',
  ']]>',
  '&amp;',
  '&#65;',
  '&#x41;',
  '&foo;',
  ';',
  '#',
  'a',
  'Z',
  '0',
  ' ',
  'é',
  '中',
  '😀',
  '\u0001',
  '\u0000',
  '\uFFFE',
  '\uD800',
  '\uDC00',
);
const value = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: SPECIAL, maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constant('') },
);
// Mostly valid values, so most runs compare bytes rather than the error.
const safe = fc.string({
  unit: fc.constantFrom('&', '<', '>', '"', '\r', '\n', '\t', 'a', 'é', '😀', '1'),
  maxLength: 8,
});
const anyValue = fc.oneof({ weight: 30, arbitrary: safe }, { weight: 1, arbitrary: value });
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

const meta: fc.Arbitrary<SyncmlMeta> = fc.record(
  {
    format: anyValue,
    type: anyValue,
    mark: anyValue,
    size: anyValue,
    nextNonce: anyValue,
    maxMsgSize: anyValue,
    maxObjSize: anyValue,
  },
  { requiredKeys: [] },
);
const item: fc.Arbitrary<SyncmlItem> = fc.record(
  { target: anyValue, source: anyValue, meta, data: anyValue, moreData: fc.boolean() },
  { requiredKeys: [] },
);
const items = fc.array(item, { maxLength: 3 });
const refs = fc.array(anyValue, { maxLength: 2 });

const { command } = fc.letrec<{ command: SyncmlCommand }>((tie) => ({
  command: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record(
      {
        kind: fc.constantFrom('Add', 'Copy', 'Delete', 'Exec', 'Get', 'Replace'),
        cmdId: anyValue,
        noResp: opt(fc.boolean()),
        meta: opt(meta),
        items,
      },
      { requiredKeys: ['kind', 'cmdId', 'items'] },
    ),
    fc.record(
      {
        kind: fc.constant('Alert' as const),
        cmdId: anyValue,
        noResp: opt(fc.boolean()),
        data: opt(anyValue),
        items,
      },
      { requiredKeys: ['kind', 'cmdId', 'items'] },
    ),
    fc.record(
      {
        kind: fc.constantFrom('Atomic' as const, 'Sequence' as const),
        cmdId: anyValue,
        noResp: opt(fc.boolean()),
        meta: opt(meta),
        commands: fc.array(tie('command'), { maxLength: 3 }),
      },
      { requiredKeys: ['kind', 'cmdId', 'commands'] },
    ),
    fc.record(
      {
        kind: fc.constant('Results' as const),
        cmdId: anyValue,
        msgRef: opt(anyValue),
        cmdRef: anyValue,
        cmd: opt(anyValue),
        meta: opt(meta),
        targetRef: refs,
        sourceRef: refs,
        items,
      },
      { requiredKeys: ['kind', 'cmdId', 'cmdRef', 'targetRef', 'sourceRef', 'items'] },
    ),
    fc.record(
      {
        kind: fc.constant('Status' as const),
        cmdId: anyValue,
        msgRef: anyValue,
        cmdRef: anyValue,
        cmd: anyValue,
        targetRef: refs,
        sourceRef: refs,
        chal: opt(fc.record({ meta: opt(meta) }, { requiredKeys: [] })),
        data: anyValue,
        originalError: opt(anyValue),
        items,
      },
      {
        requiredKeys: [
          'kind',
          'cmdId',
          'msgRef',
          'cmdRef',
          'cmd',
          'targetRef',
          'sourceRef',
          'data',
          'items',
        ],
      },
    ),
    fc.record({
      kind: fc.constant('Unsupported' as const),
      element: fc.constantFrom('Put', 'Map'),
      cmdId: anyValue,
    }),
  ) as fc.Arbitrary<SyncmlCommand>,
}));

const message: fc.Arbitrary<SyncmlMessageInput> = fc.record({
  header: fc.record(
    {
      verDTD: anyValue,
      verProto: anyValue,
      sessionId: anyValue,
      msgId: anyValue,
      target: anyValue,
      source: anyValue,
      respUri: anyValue,
      noResp: fc.boolean(),
      cred: fc.record({ meta: opt(meta), data: anyValue }, { requiredKeys: ['data'] }),
      meta,
    },
    { requiredKeys: ['sessionId', 'msgId', 'target', 'source'] },
  ),
  commands: fc.array(command, { maxLength: 4 }),
  final: fc.boolean(),
});

function outcome(write: () => string): { xml: string } | { error: string } {
  try {
    return { xml: write() };
  } catch (e) {
    return { error: `${(e as Error).name}: ${(e as Error).message}` };
  }
}

describe('buildSyncml (string writer)', () => {
  it('writes the same bytes as the element-tree builder, or refuses what it refuses', () => {
    let compared = 0;
    fc.assert(
      fc.property(message, fc.boolean(), (m, headless) => {
        const expected = outcome(() => buildSyncmlTree(m, { headless }));
        const actual = outcome(() => buildSyncml(m, { headless }));
        if ('xml' in expected) {
          expect(actual).toEqual(expected);
          compared++;
          return;
        }
        // A message with several faults may report another one first (the tree builder meets an
        // unsupported command before any value): both refuse it, with one of these two errors.
        expect(actual).toEqual({ error: expect.stringMatching(/^(XmlWriteError|TypeError): /) });
        expect(expected).toEqual({ error: expect.stringMatching(/^(XmlWriteError|TypeError): /) });
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    // The generator must mostly produce writable messages, or the bytes are barely compared.
    expect(compared).toBeGreaterThan(RUNS / 4);
  });
});
