import { CommandOutcomeHooks, CommandOutcomes, originBatches } from './command-outcomes';

const origin = { kind: 'profile', id: 'p1', revision: 2 };

describe('originBatches', () => {
  it('names each batch with an origin once, and leaves out commands without one', () => {
    expect(
      originBatches([
        { batchId: 'b1', origin },
        { batchId: 'b1', origin },
        { batchId: 'b2' },
        { batchId: 'b3', origin: { ...origin, revision: 3 } },
      ]),
    ).toEqual([
      { batchId: 'b1', origin },
      { batchId: 'b3', origin: { ...origin, revision: 3 } },
    ]);
  });
});

describe('CommandOutcomeHooks', () => {
  const event: CommandOutcomes = {
    organizationId: 'o',
    winDeviceId: 'd',
    batches: [{ batchId: 'b1', origin }],
  };

  it('calls every listener, and a failing one neither fails the call nor stops the others', async () => {
    const hooks = new CommandOutcomeHooks();
    const seen: string[] = [];
    hooks.register(() => Promise.reject(new Error('listener down')));
    hooks.register(async (e) => {
      seen.push(e.batches[0].batchId);
    });
    await expect(hooks.notify(event)).resolves.toBeUndefined();
    expect(seen).toEqual(['b1']);
  });

  it('calls nobody when no batch has an origin', async () => {
    const hooks = new CommandOutcomeHooks();
    const listener = jest.fn(() => Promise.resolve());
    hooks.register(listener);
    await hooks.notify({ ...event, batches: [] });
    expect(listener).not.toHaveBeenCalled();
  });
});
