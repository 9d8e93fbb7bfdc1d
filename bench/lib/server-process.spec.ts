import { isBackgroundCommand } from './server-process';

describe('isBackgroundCommand', () => {
  const cases: [string, Record<string, unknown>, string, boolean][] = [
    ['webhook delivery', { findAndModify: 'webhook_deliveries', query: {} }, 'findAndModify', true],
    [
      'the instance lease',
      { update: 'instance_leases', updates: [{ q: { _id: 'x' } }] },
      'update',
      true,
    ],
    [
      'the profile reconciler polling assignments',
      { find: 'win_profile_assignments', filter: { state: 'pending' } },
      'find',
      true,
    ],
    [
      'the profile planner polling plans',
      { findAndModify: 'win_profile_plans', query: {} },
      'findAndModify',
      true,
    ],
    [
      'the relay finding due records',
      { find: 'win_commands', filter: { outboxAt: { $lte: 1 } } },
      'find',
      true,
    ],
    [
      'the relay finding device events',
      { find: 'device_events', filter: { published: false } },
      'find',
      true,
    ],
    [
      'the relay acknowledging',
      {
        update: 'win_commands',
        updates: [
          { q: { _id: { $in: [] } }, u: { $set: { outbox: [] }, $unset: { outboxAt: '' } } },
        ],
      },
      'update',
      true,
    ],
    [
      'the session taking its lock',
      { findAndModify: 'win_devices', query: { certificateThumbprint: 't' } },
      'findAndModify',
      false,
    ],
    [
      'the delivery query',
      { find: 'win_commands', filter: { winDeviceId: 'd', status: 'Pending' } },
      'find',
      false,
    ],
    [
      'a status update that records an outbox entry',
      {
        update: 'win_commands',
        updates: [
          {
            q: { _id: 1 },
            u: { $set: { status: 'Acknowledged', outboxAt: 1 }, $push: { outbox: {} } },
          },
        ],
      },
      'update',
      false,
    ],
    [
      'an event insert',
      { insert: 'device_events', documents: [{ published: false }] },
      'insert',
      false,
    ],
  ];

  it.each(cases)('%s: %p', (_label, command, name, want) => {
    expect(isBackgroundCommand(command, name)).toBe(want);
  });
});
