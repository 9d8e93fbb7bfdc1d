import { databaseOf, redact, withDatabase } from './mongo-uri';

describe('withDatabase', () => {
  it('adds a database to a URI without one, keeping the options', () => {
    expect(withDatabase('mongodb://127.0.0.1:4000/?maxPoolSize=1', 'mullion')).toBe(
      'mongodb://127.0.0.1:4000/mullion?maxPoolSize=1',
    );
    expect(withDatabase('mongodb://127.0.0.1:4000', 'mullion')).toBe(
      'mongodb://127.0.0.1:4000/mullion',
    );
  });

  it('replaces the database of multi-host and SRV URIs', () => {
    expect(withDatabase('mongodb://a:1,b:2/prod?replicaSet=rs0', 't_1')).toBe(
      'mongodb://a:1,b:2/t_1?replicaSet=rs0',
    );
    expect(withDatabase('mongodb+srv://cluster.example.net/prod', 't-1')).toBe(
      'mongodb+srv://cluster.example.net/t-1',
    );
  });

  it('keeps credentials authenticating where they did before', () => {
    expect(withDatabase('mongodb://u:p%40ss@h/prod?tls=true', 'x')).toBe(
      'mongodb://u:p%40ss@h/x?tls=true&authSource=prod',
    );
    expect(withDatabase('mongodb://u:p@h', 'x')).toBe('mongodb://u:p@h/x?authSource=admin');
    expect(withDatabase('mongodb://u:p@h/prod?authSource=users', 'x')).toBe(
      'mongodb://u:p@h/x?authSource=users',
    );
  });

  it('refuses database names MongoDB or FerretDB would reject', () => {
    for (const bad of ['', 'a.b', 'a b', 'a/b', '$x', 'x'.repeat(64)]) {
      expect(() => withDatabase('mongodb://h/', bad)).toThrow(/Invalid database name/);
    }
  });

  it('refuses what is not a MongoDB URI, without echoing a password', () => {
    for (const bad of ['postgres://u:secret@h/db', 'mongodb://u:secret@', 'mongodb:/h/db']) {
      expect(() => withDatabase(bad, 'x')).toThrow(/Not a MongoDB/);
      expect(() => withDatabase(bad, 'x')).not.toThrow(/secret/);
    }
  });
});

describe('databaseOf', () => {
  it('reads the path database, if any', () => {
    expect(databaseOf('mongodb://h:1/mullion?x=1')).toBe('mullion');
    expect(databaseOf('mongodb://h:1/?x=1')).toBeUndefined();
    expect(databaseOf('mongodb://h:1')).toBeUndefined();
  });
});

describe('redact', () => {
  it('hides the password only', () => {
    expect(redact('mongodb://user:pw@h/db')).toBe('mongodb://user:***@h/db');
    expect(redact('mongodb://h/db')).toBe('mongodb://h/db');
  });
});
