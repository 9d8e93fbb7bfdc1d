import { readPoolUri } from './read-pool';

describe('readPoolUri', () => {
  it('gives a URI limited to one connection a pool of its own, other options kept', () => {
    expect(readPoolUri('mongodb://127.0.0.1:4000/mullion?maxPoolSize=1', 4)).toBe(
      'mongodb://127.0.0.1:4000/mullion?maxPoolSize=4',
    );
    expect(readPoolUri('mongodb://u:p@h:1/db?authSource=admin&maxPoolSize=1&tls=false', 3)).toBe(
      'mongodb://u:p@h:1/db?authSource=admin&maxPoolSize=3&tls=false',
    );
    expect(readPoolUri('mongodb://127.0.0.1:4000/?MAXPOOLSIZE=1', 2)).toBe(
      'mongodb://127.0.0.1:4000/?maxPoolSize=2',
    );
  });

  it('leaves reads on the main pool for any other URI', () => {
    expect(readPoolUri('mongodb://127.0.0.1:27017/mullion')).toBeUndefined();
    expect(readPoolUri('mongodb://h/db?maxPoolSize=10')).toBeUndefined();
    expect(readPoolUri('mongodb://h/db?maxPoolSize=100')).toBeUndefined();
    expect(readPoolUri('mongodb+srv://cluster.example.net/db?retryWrites=true')).toBeUndefined();
    expect(readPoolUri('mongodb://h/db?minPoolSize=1')).toBeUndefined();
  });
});
