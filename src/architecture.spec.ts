import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { preProcessFile } from 'typescript';

/**
 * The folder import graph of src/ (STYLE.md "Layout"): top-level folders are the nodes, files
 * directly under src/ are "root". It must be a DAG, lower layers never import features, the
 * server never imports the tools, tests or benchmarks that sit beside it, and only the
 * persistence layer sees the database driver.
 */
const SRC = __dirname;
const REPO = resolve(SRC, '..');
const FEATURES = [
  'organizations',
  'devices',
  'commands',
  'syncml',
  'enrollment',
  'health',
  'auth',
  'audit',
  'push',
  'profiles',
] as const;
const LOWER_LAYERS = ['common', 'config', 'pki'] as const;
const OUTSIDE_SRC = ['tools', 'test', 'bench'] as const;
const DRIVER_PACKAGES = ['mongoose', 'mongodb', 'bson'];
/**
 * STYLE.md "Repositories hide mongoose": schemas, repositories, the shared repository helpers
 * and the store launcher. The readiness probe pings the connection it is given.
 */
const MAY_IMPORT_DRIVER = [
  /\.(repository|schema)\.ts$/,
  /^src\/common\/mongo\//,
  /^src\/store\//,
  /^src\/health\/health\.controller\.ts$/,
];
/** tsconfig's `baseUrl: ./` also resolves `src/…`, `tools/…` without a leading dot. */
const BASE_URL_IMPORT = /^(src|tools|test|bench)\//;

interface ImportEdge {
  file: string;
  from: string;
  to: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** "root" for src/x.ts, "devices" for src/devices/…, and for anything outside src its top folder. */
function folderOf(path: string): string {
  const inSrc = relative(SRC, path);
  if (!inSrc.startsWith('..')) {
    const parts = inSrc.split(sep);
    return parts.length === 1 ? 'root' : parts[0];
  }
  return `../${relative(REPO, path).split(sep)[0]}`;
}

/** `../pki` is src/pki/index.ts, not a file at src/ root. */
function resolveImport(path: string): string {
  const candidates = [`${path}.ts`, join(path, 'index.ts')];
  return candidates.find((c) => existsSync(c)) ?? path;
}

/** Every relative import (static, `import type`, re-exports, `import()`, `require`) of src/. */
function importEdges(): ImportEdge[] {
  return sourceFiles(SRC).flatMap((file) => {
    const { importedFiles } = preProcessFile(readFileSync(file, 'utf8'), true, true);
    return importedFiles
      .map((i) => i.fileName)
      .filter((spec) => spec.startsWith('.') || BASE_URL_IMPORT.test(spec))
      .map((spec) => ({
        file: relative(REPO, file),
        from: folderOf(file),
        to: folderOf(resolveImport(resolve(spec.startsWith('.') ? dirname(file) : REPO, spec))),
      }))
      .filter((e) => e.from !== e.to);
  });
}

/** Files importing the database driver (`mongoose`, `mongodb`, `bson`), repository-relative. */
function driverImporters(): string[] {
  return sourceFiles(SRC)
    .filter((file) =>
      preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.some((i) =>
        DRIVER_PACKAGES.includes(i.fileName),
      ),
    )
    .map((file) => relative(REPO, file));
}

function graphOf(edges: ImportEdge[]): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    if (!graph.has(from)) graph.set(from, new Set());
    graph.get(from)!.add(to);
  }
  return graph;
}

/** The cycles depth-first search closes (one per back edge), as `a → b → … → a`; [] for a DAG. */
function findCycles(graph: Map<string, ReadonlySet<string>>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of [...(graph.get(node) ?? [])].sort()) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

const describeEdges = (edges: ImportEdge[]) =>
  edges.map((e) => `${e.from} → ${e.to} (${e.file})`).join('\n');

describe('architecture: the folder import graph of src/', () => {
  const edges = importEdges();

  it('reads the imports it checks (a parser that saw nothing would pass everything)', () => {
    // The app module wires the feature modules together: these edges exist by construction.
    expect(edges).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ from: 'root', to: 'devices', file: 'src/app.module.ts' }),
        expect.objectContaining({ from: 'root', to: 'commands', file: 'src/app.module.ts' }),
      ]),
    );
  });

  it('is a DAG', () => {
    const cycles = findCycles(graphOf(edges)).map((c) => {
      const witnesses = c
        .slice(1)
        .map((to, i) => edges.find((e) => e.from === c[i] && e.to === to)!)
        .map((e) => `  ${e.from} → ${e.to} (${e.file})`);
      return `${c.join(' → ')}\n${witnesses.join('\n')}`;
    });
    expect(cycles.join('\n\n')).toBe('');
  });

  it('never imports tools/, test/ or bench/', () => {
    const outside = edges.filter((e) => OUTSIDE_SRC.some((f) => e.to === `../${f}`));
    expect(describeEdges(outside)).toBe('');
  });

  it('lets only repositories and schemas import the database driver', () => {
    const others = driverImporters().filter((f) => !MAY_IMPORT_DRIVER.some((re) => re.test(f)));
    expect(others).toEqual([]);
  });

  it('keeps common/, config/ and pki/ below the features', () => {
    const upward = edges.filter(
      (e) =>
        (LOWER_LAYERS as readonly string[]).includes(e.from) &&
        (FEATURES as readonly string[]).includes(e.to),
    );
    expect(describeEdges(upward)).toBe('');
  });
});

describe('findCycles', () => {
  const graph = (edges: Record<string, string[]>) =>
    new Map(Object.entries(edges).map(([k, v]) => [k, new Set(v)]));

  it('finds nothing in a DAG, including a diamond', () => {
    expect(findCycles(graph({ a: ['b', 'c'], b: ['d'], c: ['d'] }))).toEqual([]);
  });

  it('names a two-folder cycle and a longer one', () => {
    expect(findCycles(graph({ a: ['b'], b: ['a'] }))).toEqual([['a', 'b', 'a']]);
    expect(findCycles(graph({ x: ['y'], y: ['z'], z: ['x'] }))).toEqual([['x', 'y', 'z', 'x']]);
  });
});
