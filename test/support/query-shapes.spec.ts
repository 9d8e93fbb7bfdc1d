import { ObjectId } from 'mongodb';
import { checkShapes, declaredIndexes } from './query-shape-check';
import {
  DeclaredIndex,
  QueryShape,
  branchesOf,
  shapeKey,
  shapesOfCommand,
  uncovered,
} from './query-shapes';
import type { RecordedShape } from './shape-recorder';

const id = new ObjectId();
const QUEUE: DeclaredIndex = {
  keys: [
    ['winDeviceId', 1],
    ['status', 1],
    ['queuedAt', 1],
    ['batchId', 1],
    ['position', 1],
  ],
};
const CMD_ID: DeclaredIndex = { keys: [['cmdId', 1]], unique: true };
const BY_TIME: DeclaredIndex = { keys: [['receivedAt', 1]] };
const COMMANDS = [QUEUE, CMD_ID, BY_TIME];

const find = (filter: object, sort?: object): QueryShape =>
  shapesOfCommand({ find: 'win_commands', filter, ...(sort && { sort }) })[0];

describe('query shapes', () => {
  it('normalises operators to equality, $in, range and other', () => {
    expect(
      branchesOf({
        winDeviceId: id,
        status: { $in: ['Pending'] },
        attempts: { $lt: 3 },
        statusCode: { $nin: ['101'] },
        'config.path': { $not: /^\.\/User\// },
        name: /x/,
        sentAt: null,
        cmdId: { $eq: 'a' },
      }),
    ).toEqual([
      {
        attempts: 'range',
        cmdId: 'eq',
        'config.path': 'other',
        name: 'other',
        sentAt: 'eq',
        status: 'in',
        statusCode: 'other',
        winDeviceId: 'eq',
      },
    ]);
  });

  it('splits $or into branches, each with the conjunction around it', () => {
    expect(branchesOf({ organizationId: id, $or: [{ _id: id }, { deviceId: 'D' }] })).toEqual([
      { _id: 'eq', organizationId: 'eq' },
      { deviceId: 'eq', organizationId: 'eq' },
    ]);
  });

  it('reads the filter of every command kind that queries, and none of an insert', () => {
    const q = { winDeviceId: id };
    expect(shapesOfCommand({ insert: 'win_commands', documents: [{}] })).toEqual([]);
    expect(shapesOfCommand({ getMore: 1, collection: 'win_commands' })).toEqual([]);
    expect(
      shapesOfCommand({ update: 'win_commands', updates: [{ q }, { q: { _id: id } }] }).map(
        shapeKey,
      ),
    ).toEqual(['win_commands update {winDeviceId:eq}', 'win_commands update {_id:eq}']);
    expect(
      shapeKey(
        shapesOfCommand({
          aggregate: 'win_commands',
          pipeline: [{ $match: q }, { $sort: { queuedAt: -1 } }, { $limit: 1 }],
        })[0],
      ),
    ).toBe('win_commands aggregate {winDeviceId:eq} sort -queuedAt');
    for (const command of [
      { findAndModify: 'win_devices', query: q },
      { delete: 'win_devices', deletes: [{ q, limit: 1 }] },
      { count: 'win_devices', query: q },
      { distinct: 'win_devices', key: 'status', query: q },
    ]) {
      expect(shapesOfCommand(command).map((s) => s.branches)).toEqual([[{ winDeviceId: 'eq' }]]);
    }
  });
});

describe('index-prefix coverage', () => {
  it.each([
    [
      'the queue: device and status, FIFO sort',
      find({ winDeviceId: id, status: 'Pending' }, { queuedAt: 1, batchId: 1, position: 1 }),
    ],
    [
      'the whole sort read backwards',
      find({ winDeviceId: id, status: 'Pending' }, { queuedAt: -1, batchId: -1 }),
    ],
    [
      'a residual negation after a covered prefix',
      find({ winDeviceId: id, status: 'Pending', 'config.path': { $not: /^x/ } }),
    ],
    [
      '$in on a prefix key',
      find({ winDeviceId: id, status: { $in: ['Awaiting', 'Acknowledged'] } }),
    ],
    [
      'a range right after the equality prefix',
      find({ winDeviceId: id, status: 'Pending', queuedAt: { $lt: new Date() } }),
    ],
    [
      '_id, whatever else the filter says',
      find({ _id: { $in: [id] }, winDeviceId: id, opToken: 'x' }),
    ],
    ['a unique key alone', find({ cmdId: { $in: ['a', 'b'] } })],
    ['a sweep by time', find({ receivedAt: { $lt: new Date() }, status: { $nin: ['Pending'] } })],
    [
      'equality on keys no index holds, after a covered prefix',
      find({
        winDeviceId: id,
        status: 'Awaiting',
        'config.action': 'Exec',
        sessionRef: 's',
        attempts: { $lt: 3 },
      }),
    ],
    [
      'an _id tiebreaker after an index-served sort',
      find({ winDeviceId: id, status: 'Pending' }, { queuedAt: -1, _id: -1 }),
    ],
  ])('covers %s', (_, shape) => {
    expect(uncovered(shape, COMMANDS)).toBeNull();
  });

  it.each([
    // findForDevice before the fix: the device prefix reads its whole history; cmdId leaves the device out.
    ['an equality key past the bound prefix', find({ winDeviceId: id, cmdId: { $in: ['a'] } })],
    [
      'an indexed equality key the prefix leaves out',
      find({ winDeviceId: id, status: 'Pending', receivedAt: new Date() }),
    ],
    [
      'a sort by _id alone on a secondary prefix',
      find({ winDeviceId: id, status: 'Pending' }, { _id: 1 }),
    ],
    ['a range before the prefix ends', find({ winDeviceId: id, queuedAt: { $lt: new Date() } })],
    ['a sort that skips an index key', find({ winDeviceId: id }, { queuedAt: 1 })],
    [
      'a sort in the wrong key order',
      find({ winDeviceId: id, status: 'Pending' }, { batchId: 1, queuedAt: 1 }),
    ],
    [
      'a sort mixing directions the index does not',
      find({ winDeviceId: id, status: 'Pending' }, { queuedAt: 1, batchId: -1 }),
    ],
    ['an empty filter without a sort', find({})],
    ['only negations', find({ status: { $ne: 'Pending' } })],
    ['one $or branch without an index', find({ $or: [{ _id: id }, { deviceId: 'D' }] })],
  ])('refuses %s', (_, shape) => {
    expect(uncovered(shape, COMMANDS)).toMatch(/no declared index serves it/);
  });

  it('knows only _id on a collection that declares nothing', () => {
    expect(uncovered(find({ _id: 'primary' }), [])).toBeNull();
    expect(uncovered(find({ holder: 'h' }), [])).toMatch(/none besides _id/);
  });
});

describe('checkShapes', () => {
  const recorded = (shape: QueryShape): RecordedShape => ({
    key: shapeKey(shape),
    shape,
    test: 'x.e2e-spec.ts › a test',
    origin: ['Repo.method src/x.ts:1'],
  });
  const bad = recorded(find({ winDeviceId: id, cmdId: { $in: ['a'] } }));
  const good = recorded(find({ winDeviceId: id, status: 'Pending' }));
  const indexes = new Map([['win_commands', COMMANDS]]);

  it('fails an uncovered shape and says where it came from', () => {
    const report = checkShapes([good, bad], indexes, {});
    expect(report.checked).toBe(2);
    expect(report.failures).toHaveLength(1);
    expect(report.failures[0]).toContain('win_commands find {cmdId:in,winDeviceId:eq}');
    expect(report.failures[0]).toContain('x.e2e-spec.ts › a test');
    expect(report.failures[0]).toContain('Repo.method src/x.ts:1');
  });

  it('passes a shape the allow-list names, and only that one', () => {
    const report = checkShapes([good, bad], indexes, { [bad.key]: 'rare admin read' });
    expect(report.failures).toEqual([]);
    expect(report.allowed).toBe(1);
    expect(checkShapes([bad], indexes, { [good.key]: 'x' }).failures).toHaveLength(1);
  });

  it('reads the declared indexes from the schemas, field-level unique ones included', () => {
    const declared = declaredIndexes();
    const keys = (c: string) => (declared.get(c) ?? []).map((i) => i.keys.map(([k]) => k));
    expect(keys('win_commands')).toContainEqual(['cmdId']);
    expect(keys('win_commands')).toContainEqual(QUEUE.keys.map(([k]) => k));
    expect(keys('win_devices')).toContainEqual(['winEnterpriseId', 'deviceId']);
  });
});
