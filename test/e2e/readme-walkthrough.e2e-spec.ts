import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freeLoopbackPort } from '../../src/store/free-port';
import { DEFAULT_DEV_INFO, windowsDefaultValues } from '../../tools/simulator';
import { startTestApp, TEST_JWT_SECRET, TestApp } from '../support/app';

const ROOT = resolve(__dirname, '../..');
const START = '<!-- walkthrough:start -->';
const END = '<!-- walkthrough:end -->';
const CAMERA = './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera';
const SWV = './DevDetail/SwV';
const SEPARATOR = '@@readme-walkthrough-block@@';

/** The ```sh blocks between the walkthrough markers of README.md, in reading order. */
function walkthroughBlocks(markdown: string): string[] {
  const start = markdown.indexOf(START);
  const end = markdown.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md lacks ${START} … ${END}`);
  const section = markdown.slice(start + START.length, end);
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/** Points the README's one `NAME=<url>` assignment at the test server; fails if it is not there. */
function retarget(script: string, name: 'API' | 'DEVICES', url: string): string {
  const line = new RegExp(`^${name}=\\S+`, 'gm');
  const found = script.match(line) ?? [];
  if (found.length !== 1) {
    throw new Error(`the walkthrough must assign ${name}= once at the start of a line`);
  }
  return script.replace(line, `${name}=${url}`);
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function bash(file: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((done) => {
    // Asynchronous on purpose: the server under test answers from this same event loop.
    const child = execFile(
      'bash',
      [file],
      { cwd: ROOT, env, maxBuffer: 16 * 1024 * 1024, timeout: 240_000 },
      (error, stdout, stderr) =>
        done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
}

interface BatchCommand {
  cmdId: string;
  status: string;
  statusCode: number | null;
  config: { path: string; action: string };
  data: { path: string; value: string }[];
}

describe('the README walkthrough, pasted into bash', () => {
  let t: TestApp;
  let dir: string;
  let run: Run;
  let outputs: string[];

  beforeAll(async () => {
    const devicePort = await freeLoopbackPort();
    t = await startTestApp(__filename, {
      DEVICE_PORT: String(devicePort),
      PUBLIC_BASE_URL: `https://127.0.0.1:${devicePort}`,
    });
    await t.app.listen(0, '127.0.0.1');
    const apiPort = (t.app.getHttpServer().address() as AddressInfo).port;

    const blocks = walkthroughBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    let script = blocks.join(`\necho '${SEPARATOR}'\n`);
    script = retarget(script, 'API', `http://127.0.0.1:${apiPort}`);
    script = retarget(script, 'DEVICES', `https://127.0.0.1:${devicePort}`);
    dir = mkdtempSync(join(tmpdir(), 'readme-walkthrough-'));
    const file = join(dir, 'walkthrough.sh');
    // -e and pipefail: a command that fails stops the walkthrough, as a reader would stop.
    writeFileSync(file, `set -euo pipefail\n${script}\n`);
    const env: NodeJS.ProcessEnv = { ...process.env, JWT_SECRET: TEST_JWT_SECRET, TMPDIR: dir };
    // The token CLI must sign exactly as this server checks (HS256 with the secret above).
    for (const k of ['JWT_ISSUER', 'JWT_AUDIENCE', 'JWT_PUBLIC_KEY', 'JWT_PUBLIC_KEY_FILE']) {
      delete env[k];
    }
    run = await bash(file, env);
    outputs = run.stdout.split(`${SEPARATOR}\n`);
  }, 300_000);

  afterAll(async () => {
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs every block to the end', () => {
    // stderr is shown only when the run failed: npm may warn there without anything being wrong.
    expect({ code: run.code, stderr: run.code ? run.stderr : '' }).toEqual({ code: 0, stderr: '' });
    expect(outputs.length).toBeGreaterThanOrEqual(5);
  });

  it('shows what the simulated device received and answered', () => {
    const session = outputs.find((o) => /^msg\s+cmdId\s+verb/m.test(o)) ?? '';
    const row = (verb: string, path: string) =>
      session.split('\n').find((l) => l.split(/\s+/).includes(verb) && l.includes(path)) ?? '';
    const swv = windowsDefaultValues('any', DEFAULT_DEV_INFO)[SWV].data;
    expect(row('Replace', CAMERA).split(/\s+/).slice(2)).toEqual([
      'Replace',
      CAMERA,
      'int',
      '200',
      '0',
    ]);
    expect(row('Get', SWV).split(/\s+/).slice(2)).toEqual(['Get', SWV, '200', swv]);
    expect(session).toMatch(/session \S+: completed/);
  });

  it('ends on the batch: both commands Acknowledged with 200, the Get holding the value', async () => {
    const batch = JSON.parse(outputs[outputs.length - 1]) as {
      id: string;
      winDeviceId: string;
      commands: BatchCommand[];
    };
    const swv = windowsDefaultValues('any', DEFAULT_DEV_INFO)[SWV].data;
    expect(batch.commands).toEqual([
      expect.objectContaining({
        status: 'Acknowledged',
        statusCode: 200,
        config: expect.objectContaining({ path: CAMERA, action: 'Replace' }),
        data: [],
      }),
      expect.objectContaining({
        status: 'Acknowledged',
        statusCode: 200,
        config: expect.objectContaining({ path: SWV, action: 'Get' }),
        data: [expect.objectContaining({ path: SWV, value: swv })],
      }),
    ]);

    // The device that answered is the one the walkthrough enrolled, not one an admin registered.
    const device = await t.db.collection('win_devices').findOne({});
    expect(String(device?._id)).toBe(batch.winDeviceId);
    expect(device?.certificate).toMatchObject({ source: 'enrollment' });
    expect(await t.db.collection('win_devices').countDocuments()).toBe(1);
    const stored = await t.db
      .collection('win_commands')
      .find({}, { projection: { cmdId: 1, status: 1, statusCode: 1 } })
      .sort({ cmdId: 1 })
      .toArray();
    expect(stored.map((c) => [c.cmdId, c.status, c.statusCode])).toEqual(
      batch.commands.map((c) => [c.cmdId, 'Acknowledged', '200']),
    );
  });
});
