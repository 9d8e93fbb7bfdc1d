import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { CommandStartedEvent, MongoClient } from 'mongodb';
import { QueryShape, shapeKey, shapesOfCommand } from './query-shapes';

/** Set by global-setup.ts: the directory where each test file's app writes the shapes it saw. */
export const QUERY_SHAPES_DIR_ENV = 'MULLION_TEST_QUERY_SHAPES_DIR';

export interface RecordedShape {
  key: string;
  shape: QueryShape;
  /** The test file and test that made the server issue it. */
  test: string;
  /** The server's own frames (src/…) of the first call that issued it. */
  origin: string[];
}

const ROOT = join(__dirname, '..', '..');
const SERVER_FRAME = /\(?((?:\/[^\s()]+)?\/src\/[^\s():]+\.ts:\d+)(?::\d+)?\)?/;

/** The server-code frames (src/…) of a stack, outermost last; none for a test's own query. */
function serverFrames(stack: string): string[] {
  const frames: string[] = [];
  for (const line of stack.split('\n').slice(1)) {
    if (line.includes('node_modules')) continue;
    const m = SERVER_FRAME.exec(line);
    if (!m || !m[1].startsWith(join(ROOT, 'src'))) continue;
    const fn = /at (?:async )?([^\s(]+) \(/.exec(line)?.[1] ?? '';
    frames.push(`${fn} ${relative(ROOT, m[1])}`.trim());
  }
  return frames;
}

function currentTest(): string {
  const state = expect.getState();
  const file = state.testPath ? relative(ROOT, state.testPath) : 'unknown file';
  return state.currentTestName ? `${file} › ${state.currentTestName}` : file;
}

/**
 * Records the query shapes the server issues through `client` (commands whose stack passes
 * through src/; a test's own reads of the store are not the server's queries), and writes them,
 * one JSON line each, into QUERY_SHAPES_DIR_ENV when the app closes. Does nothing outside a jest
 * run whose global setup created the directory.
 */
export function recordQueryShapes(client: MongoClient): { flush(): void } | null {
  const dir = process.env[QUERY_SHAPES_DIR_ENV];
  if (!dir) return null;
  const seen = new Map<string, RecordedShape>();
  client.on('commandStarted', (e: CommandStartedEvent) => {
    const shapes = shapesOfCommand(e.command);
    if (!shapes.length) return;
    // Async stack traces reach the repository through the driver's awaits; ten frames do not.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 80;
    const stack = new Error().stack ?? '';
    Error.stackTraceLimit = limit;
    const origin = serverFrames(stack);
    if (!origin.length) return;
    for (const shape of shapes) {
      const key = shapeKey(shape);
      if (!seen.has(key)) seen.set(key, { key, shape, test: currentTest(), origin });
    }
  });
  return {
    flush() {
      if (!seen.size) return;
      mkdirSync(dir, { recursive: true });
      const lines = [...seen.values()].map((r) => JSON.stringify(r)).join('\n');
      writeFileSync(join(dir, `${process.pid}-${randomBytes(4).toString('hex')}.jsonl`), lines);
      seen.clear();
    },
  };
}
