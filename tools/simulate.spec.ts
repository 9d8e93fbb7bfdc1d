import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getCmd, replaceCmd, scripted } from './simulator/testing/commands';
import { FakeMdmServer } from './simulator/testing/fake-server';
import { createTestPki, type TestPki } from './simulator/testing/pki';
import { parseSimulateArgs, runSimulate, type Io } from './simulate';

const DEVICE = '0F1E2D3C4B5A69788796A5B4C3D2E1F0';
const POLICY = './Device/Vendor/MSFT/Policy/Config/Start/HideSleep';

function capture(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t) };
}

describe('npm run simulate', () => {
  let pki: TestPki;
  let dir: string;
  let server: FakeMdmServer | undefined;

  beforeAll(async () => {
    pki = await createTestPki();
    dir = mkdtempSync(join(tmpdir(), 'simulate-spec-'));
    const client = await pki.issueClient(DEVICE);
    writeFileSync(join(dir, 'device.crt'), client.cert);
    writeFileSync(join(dir, 'device.key'), client.key);
    writeFileSync(join(dir, 'ca.pem'), pki.caCert);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const one = (origin: string, ...extra: string[]) => [
    '--server',
    origin,
    '--device',
    DEVICE,
    '--cert',
    join(dir, 'device.crt'),
    '--key',
    join(dir, 'device.key'),
    '--ca',
    join(dir, 'ca.pem'),
    ...extra,
  ];

  it.each([
    [[], '--server <url> is required'],
    [['--server', 'http://127.0.0.1:1'], 'must be an https:// URL'],
    [['--server', 'https://127.0.0.1:1', '--ca', 'x', '--insecure'], 'exclude each other'],
    [
      ['--server', 'https://127.0.0.1:1', '--device', 'D'],
      '--device, --cert and --key are required',
    ],
    [
      ['--server', 'https://127.0.0.1:1', '--cert-dir', '/nonexistent-dir'],
      'cannot read directory',
    ],
    [['--server', 'https://127.0.0.1:1', '--devices', '0'], '--devices must be a positive integer'],
    [['--make-certs', '/tmp/x'], '--make-certs needs'],
  ])('exits 2 on bad usage %j', async (argv, message) => {
    const io = capture();
    expect(await runSimulate(argv, io)).toBe(2);
    expect(io.stderr.join('\n')).toContain(message);
    expect(io.stderr.join('\n')).toContain('Exit codes');
  });

  it('reads session options into the request', () => {
    const req = parseSimulateArgs(
      one(
        'https://127.0.0.1:9',
        '--max-msg-size',
        '4096',
        '--unenroll',
        '--abort-after',
        '2',
        '--strict',
      ),
    );
    expect(req.mode === 'session' && req.shared.session).toEqual({
      extraAlerts: [expect.objectContaining({ code: '1226' })],
      abortAfterMessages: 2,
      strict: true,
    });
    expect(req.mode === 'session' && req.shared.device).toEqual({ maxMsgSize: 4096 });
    expect(req.mode === 'session' && req.identity.deviceId).toBe(DEVICE);
  });

  it('runs one session and prints what it answered', async () => {
    server = await FakeMdmServer.start(
      pki.server,
      scripted([[replaceCmd('c1', POLICY, '1'), getCmd('c2', './DevDetail/SwV')]]),
    );
    const io = capture();
    expect(await runSimulate(one(server.origin), io)).toBe(0);
    const lines = io.stdout.join('\n').split('\n');
    expect(lines[0].split(/\s+/)).toEqual([
      'msg',
      'cmdId',
      'verb',
      'target',
      'format',
      'status',
      'value',
    ]);
    expect(lines[2].split(/\s+/)).toEqual(['1', 'c1', 'Replace', POLICY, 'int', '200', '1']);
    expect(lines[3].split(/\s+/)).toEqual([
      '1',
      'c2',
      'Get',
      './DevDetail/SwV',
      '200',
      '10.0.26100.4652',
    ]);
    expect(io.stdout.join('\n')).toContain(`device ${DEVICE}`);
    expect(server.requests[0].peerCn).toBe(DEVICE);
  });

  it('re-runs a saved identity from --cert-dir as one session and prints what it answered', async () => {
    // The layout `--enroll --out` writes: <id>.crt, <id>.key and the enterprise CA beside them.
    const saved = join(dir, 'enrolled');
    mkdirSync(saved);
    writeFileSync(join(saved, `${DEVICE}.crt`), readFileSync(join(dir, 'device.crt')));
    writeFileSync(join(saved, `${DEVICE}.key`), readFileSync(join(dir, 'device.key')));
    writeFileSync(join(saved, `${DEVICE}.ca.pem`), pki.caCert);
    server = await FakeMdmServer.start(
      pki.server,
      scripted([[replaceCmd('c1', POLICY, '0'), getCmd('c2', './DevDetail/SwV')]]),
    );
    for (const pick of [[], ['--device', DEVICE]]) {
      const io = capture();
      const argv = ['--server', server.origin, '--cert-dir', saved, '--insecure', ...pick];
      expect(await runSimulate(argv, io)).toBe(0);
      const rows = io.stdout.join('\n').split('\n');
      expect(rows[2].split(/\s+/)).toEqual(['1', 'c1', 'Replace', POLICY, 'int', '200', '0']);
      expect(rows[3].split(/\s+/)).toEqual([
        '1',
        'c2',
        'Get',
        './DevDetail/SwV',
        '200',
        '10.0.26100.4652',
      ]);
      expect(io.stdout.join('\n')).toMatch(new RegExp(`device ${DEVICE}, session \\S+: completed`));
    }
    expect(server.requests.map((r) => r.peerCn)).toEqual(Array(4).fill(DEVICE));

    // --rounds asks for load figures, even for one device.
    const load = parseSimulateArgs([
      '--server',
      server.origin,
      '--cert-dir',
      saved,
      '--rounds',
      '2',
    ]);
    expect(load).toMatchObject({ mode: 'load', rounds: 2 });
    for (const [extra, message] of [
      [['--device', 'NOPE'], `device NOPE not found in ${saved}`],
      [['--device', DEVICE, '--devices', '1'], 'not with --devices or --rounds'],
      [['--cert', 'x.crt'], '--cert and --key are for one device'],
    ]) {
      const io = capture();
      const argv = ['--server', server.origin, '--cert-dir', saved, ...extra];
      expect(await runSimulate(argv, io)).toBe(2);
      expect(io.stderr.join('\n')).toContain(message);
    }
  });

  it('exits 1 when the session fails', async () => {
    server = await FakeMdmServer.start(pki.server, () => ({ status: 401, body: '' }));
    const io = capture();
    expect(await runSimulate(one(server.origin), io)).toBe(1);
    expect(io.stderr.join('\n')).toContain('session failed (http): server answered HTTP 401');
  });

  it('makes certificates, then runs N devices from the manifest or the directory', async () => {
    const certs = join(dir, 'fleet');
    const made = capture();
    expect(await runSimulate(['--make-certs', certs, '--devices', '3'], made)).toBe(0);
    expect(made.stdout).toHaveLength(4);
    server = await FakeMdmServer.start(pki.server, scripted([[getCmd('g', './DevInfo/DevId')]]));
    const io = capture();
    const load = ['--server', server.origin, '--insecure', '--devices', '2', '--rounds', '2'];
    expect(await runSimulate([...load, '--manifest', join(certs, 'manifest.json')], io)).toBe(0);
    expect(io.stdout[0]).toMatch(/^2 device\(s\), 4 session\(s\), 0 failed/);
    expect(io.stdout[0]).toMatch(/sessions\/s \d+\.\d\s+p50 \d+\.\d ms\s+p99 \d+\.\d ms/);
    // Every session presented its own device's certificate.
    const cns = new Set(server.requests.map((r) => r.peerCn));
    const sources = new Set(server.requests.map((r) => r.message?.header.source));
    expect(cns).toEqual(sources);
    expect(cns.size).toBe(2);
    expect(server.requests).toHaveLength(8);

    expect(await runSimulate([...load, '--cert-dir', certs], capture())).toBe(0);
  });

  describe('fleet runs (--poll)', () => {
    it('starts a server of its own for --devices N --poll without --server', () => {
      const req = parseSimulateArgs(['--devices', '5000', '--poll', '60s', '--duration', '3m']);
      expect(req).toMatchObject({
        mode: 'fleet',
        shared: null,
        identities: null,
        devices: 5000,
        pollMs: 60_000,
        durationMs: 180_000,
        commandFraction: 0,
        batch: 10,
        keys: 50,
        api: null,
      });
    });

    it('runs three poll periods by default and reads the command options', () => {
      const req = parseSimulateArgs([
        '--devices',
        '10',
        '--poll',
        '2m',
        '--commands',
        '0.05',
        '--batch',
        '3',
        '--keys',
        '4',
      ]);
      expect(req).toMatchObject({
        durationMs: 360_000,
        commandFraction: 0.05,
        batch: 3,
        keys: 4,
      });
    });

    it('takes the devices of a running server from --cert-dir, with the REST API for commands', async () => {
      const certs = join(dir, 'fleet-poll');
      expect(await runSimulate(['--make-certs', certs, '--devices', '3'], capture())).toBe(0);
      const req = parseSimulateArgs([
        '--server',
        'https://127.0.0.1:1',
        '--insecure',
        '--cert-dir',
        certs,
        '--devices',
        '2',
        '--poll',
        '30s',
        '--commands',
        '0.5',
        '--api',
        'http://127.0.0.1:2/',
        '--token',
        't',
        '--org',
        'acme',
      ]);
      expect(req.mode).toBe('fleet');
      if (req.mode !== 'fleet') return;
      expect(req.identities?.map((i) => i.deviceId)).toHaveLength(2);
      expect(req.shared?.server).toBe('https://127.0.0.1:1');
      expect(req.api).toEqual({ url: 'http://127.0.0.1:2', token: 't', org: 'acme' });
    });

    it.each([
      [['--poll', '60s'], '--poll without --server needs --devices N'],
      [['--devices', '5', '--poll', 'often'], 'not a duration'],
      [['--devices', '5', '--poll', '0s'], 'more than 0'],
      [['--devices', '5', '--poll', '60s', '--commands', '1.5'], 'fraction from 0 to 1'],
      [['--devices', '5', '--poll', '60s', '--api', 'http://x'], 'for a running server'],
      [['--devices', '5', '--duration', '60s'], '--duration is for fleet runs'],
      [['--server', 'https://127.0.0.1:1', '--poll', '60s'], 'needs --cert-dir or --manifest'],
      [
        [
          '--server',
          'https://127.0.0.1:1',
          '--cert-dir',
          '/tmp',
          '--poll',
          '1m',
          '--commands',
          '0.1',
        ],
        'needs --api, --token and --org',
      ],
    ])('refuses %j: %s', (argv, message) => {
      expect(() => parseSimulateArgs(argv)).toThrow(message);
    });
  });
});
