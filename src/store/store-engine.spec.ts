import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { MongoClient } from 'mongodb';
import { startEmbeddedStore } from './embedded-store';
import { isExecutableFile } from './paths';
import { chooseBackend, storeEngine } from './store-engine';

jest.setTimeout(15 * 60_000);

const { MONGODB_URI: _unused, STORE_ENGINE: _default, ...baseEnv } = process.env;
const env: NodeJS.ProcessEnv = {
  ...baseEnv,
  PATH: (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => !isExecutableFile(join(dir, 'mongod')))
    .join(delimiter),
};

let scratch: string;
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'mullion-engine-'));
});
afterEach(() => rm(scratch, { recursive: true, force: true }));

describe('storeEngine', () => {
  it('defaults to postgres and refuses an unknown engine, naming the accepted ones', () => {
    expect(storeEngine({})).toBe('postgres');
    expect(storeEngine({ STORE_ENGINE: 'sqlite' })).toBe('sqlite');
    expect(() => storeEngine({ STORE_ENGINE: 'mysql' })).toThrow(
      'STORE_ENGINE must be one of postgres, sqlite, got "mysql"',
    );
  });
});

describe('chooseBackend', () => {
  it('picks PostgreSQL on a new data directory, without a warning', async () => {
    const lines: string[] = [];
    const choice = await chooseBackend(env, scratch, (line) => lines.push(line));
    expect(choice.backend).toBe('postgresql');
    expect(lines).toEqual([]);
  });

  it('uses SQLite when asked, with a warning that says what it costs', async () => {
    const lines: string[] = [];
    const choice = await chooseBackend({ ...env, STORE_ENGINE: 'sqlite' }, scratch, (line) =>
      lines.push(line),
    );
    expect(choice.backend).toBe('sqlite');
    expect(lines.join('\n')).toMatch(/WARNING.*STORE_ENGINE=sqlite.*reads a whole collection/);
  });

  it('keeps the SQLite store an earlier version left, and says how to move', async () => {
    await writeFile(join(scratch, 'mullion.sqlite'), '');
    const lines: string[] = [];
    const choice = await chooseBackend(env, scratch, (line) => lines.push(line));
    expect(choice.backend).toBe('sqlite');
    expect(lines.join('\n')).toMatch(
      /WARNING.*holds a SQLite store from an earlier mullion \(mullion\.sqlite\).*mongodump/,
    );
  });

  it('refuses a cluster no binaries can open rather than start an empty store', async () => {
    await mkdir(join(scratch, 'postgres'));
    await writeFile(join(scratch, 'postgres', 'PG_VERSION'), '99\n');
    await expect(chooseBackend(env, scratch, () => undefined)).rejects.toThrow(
      /PostgreSQL 99 cluster, but no PostgreSQL 99 binaries were found/,
    );
  });
});

describe('a data directory with a SQLite store', () => {
  it('keeps serving its data after the default became PostgreSQL', async () => {
    const dataDir = join(scratch, 'data');
    const old = await startEmbeddedStore({
      dataDir,
      env: { ...env, STORE_ENGINE: 'sqlite' },
      log: () => undefined,
    });
    expect(old.backend).toBe('sqlite');
    const writer = await new MongoClient(old.uri).connect();
    await writer.db('mullion').collection('c').insertOne({ written: 'on sqlite' });
    await writer.close();
    await old.stop();

    const lines: string[] = [];
    const store = await startEmbeddedStore({ dataDir, env, log: (line) => lines.push(line) });
    try {
      expect(store.backend).toBe('sqlite');
      expect(lines.join('\n')).toContain('holds a SQLite store from an earlier mullion');
      const reader = await new MongoClient(store.uri).connect();
      await expect(reader.db('mullion').collection('c').findOne({})).resolves.toMatchObject({
        written: 'on sqlite',
      });
      await reader.close();
    } finally {
      await store.stop();
    }
  });
});
