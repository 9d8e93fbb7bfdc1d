/*
 * SyncML codec throughput, next to bare saxes on the same input and to a template-string
 * serializer (the baselines of research/xml-parsers.md). Run:
 *   npx ts-node --transpile-only bench/syncml-codec.bench.ts
 */
import { SaxesParser } from 'saxes';
import {
  buildSyncml,
  envelopeBytes,
  measureCommand,
  parseSyncml,
  SyncmlStatus,
  type SyncmlCommand,
  type SyncmlItem,
  type SyncmlMessageInput,
} from '../src/syncml/codec';

// Deterministic inputs (mulberry32), shaped like research/xml-parsers.md's generator.
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DEVICE = '5C9A0E3B7D214F68A1B2C3D4E5F60718';
const SERVER = 'https://mdm.example.test/ManagementServer/MDM.svc';
const URIS = [
  './DevDetail/SwV',
  './DevInfo/Lang',
  './Vendor/MSFT/DeviceStatus/OS/Edition',
  './Device/Vendor/MSFT/Policy/Config/Update/ActiveHoursStart',
  './Vendor/MSFT/NodeCache/MS%20DM%20Server/Nodes/12/ExpectedValue',
  './Vendor/MSFT/EnterpriseModernAppManagement/AppInventoryResults',
];

function dataItem(r: () => number): SyncmlItem {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const u = r();
  let format: string;
  let data: string;
  if (u < 0.34)
    [format, data] = ['chr', pick(['10.0.22631.4602', 'en-US', `O'Neil & Sons "Fleet"`])];
  else if (u < 0.56) [format, data] = ['int', pick(['0', '1', '007', '0012', '3600'])];
  else if (u < 0.66) [format, data] = ['bool', pick(['true', 'false'])];
  else if (u < 0.84) [format, data] = ['node', 'Policy/Config/Result/Update'];
  else if (u < 0.92) {
    const pkg = `<Package PackageFullName="Microsoft.App${Math.floor(r() * 1000)}_1.0.0.0_x64__8wekyb3d8bbwe" Publisher="CN=Microsoft Corporation, O=Microsoft Corporation, C=US" Version="1.0.0.0" />`;
    [format, data] = [
      'xml',
      `<AppInventoryResults><Results>${pkg.repeat(1 + Math.floor(r() * 3))}</Results></AppInventoryResults>`,
    ];
  } else {
    let b = 'MIIC';
    for (let i = 300 + Math.floor(r() * 500); i > 0; i--)
      b += String.fromCharCode(65 + Math.floor(r() * 26));
    [format, data] = ['b64', b];
  }
  return { source: pick(URIS), meta: { format, type: 'text/plain' }, data };
}

function status(cmdId: string, msgRef: string, cmdRef: string, cmd: string, data: string) {
  const s: SyncmlCommand = {
    kind: 'Status',
    cmdId,
    msgRef,
    cmdRef,
    cmd,
    data,
    items: [],
    targetRef: [],
    sourceRef: [],
  };
  return s;
}

/** A device message (Status 45 %, Results 40 %, Replace 10 %, Alert 5 %) of about `bytes`. */
export function benchDeviceMessage(bytes: number, seed: number): string {
  const r = prng(seed);
  const header = {
    sessionId: '1A',
    msgId: '2',
    target: SERVER,
    source: DEVICE,
    meta: { maxMsgSize: '65535' },
  };
  const commands: SyncmlCommand[] = [status('1', '1', '0', 'SyncHdr', SyncmlStatus.Ok)];
  let size = envelopeBytes(header, true);
  for (let id = 2; size < bytes; id++) {
    const u = r();
    const cmdId = String(id);
    let cmd: SyncmlCommand;
    if (u < 0.45)
      cmd = status(cmdId, '1', cmdId, 'Get', ['200', '404', '500'][Math.floor(r() * 3)]);
    else if (u < 0.85) {
      const items = Array.from({ length: 1 + Math.floor(r() * 3) }, () => dataItem(r));
      cmd = {
        kind: 'Results',
        cmdId,
        msgRef: '1',
        cmdRef: cmdId,
        targetRef: [],
        sourceRef: [],
        items,
      };
    } else if (u < 0.95) {
      const items = Array.from({ length: 2 + Math.floor(r() * 5) }, () => dataItem(r));
      cmd = { kind: 'Replace', cmdId, items };
    } else cmd = { kind: 'Alert', cmdId, data: '1201', items: [] };
    commands.push(cmd);
    size += measureCommand(cmd);
  }
  return buildSyncml({ header, commands, final: true });
}

const MSI = (g: string): [string, string] => [
  `./Device/Vendor/MSFT/EnterpriseDesktopAppManagement/MSI/${encodeURIComponent(g)}/DownloadInstall`,
  `<MsiInstallJob id="${g}"><Product Version="1.0.0.0"><Download><ContentURLList><ContentURL>https://cdn.example.test/app.msi?sig=a&amp;b=c</ContentURL></ContentURLList></Download><Enforcement><CommandLine>/quiet</CommandLine></Enforcement></Product></MsiInstallJob>`,
];
type Op = ['Get' | 'Replace' | 'Add' | 'Exec' | 'Delete', string, string?, string?];
const RESPONSE_OPS: readonly Op[] = [
  ...URIS.slice(0, 5).map((u): Op => ['Get', u]),
  ['Replace', './Device/Vendor/MSFT/Policy/Config/Update/ActiveHoursStart', 'int', '8'],
  ['Replace', './Device/Vendor/MSFT/Policy/Config/Defender/AllowRealtimeMonitoring', 'int', '1'],
  [
    'Replace',
    './Vendor/MSFT/DMClient/Provider/MS%20DM%20Server/EntDeviceName',
    'chr',
    `O'Neil & Sons <Fleet> "7"`,
  ],
  ['Replace', './Device/Vendor/MSFT/Policy/Config/DeviceLock/DevicePasswordEnabled', 'int', '0'],
  [
    'Add',
    './Vendor/MSFT/NodeCache/MS%20DM%20Server/Nodes/12/NodeURI',
    'chr',
    './Vendor/MSFT/Policy/Config/Browser/AllowDoNotTrack',
  ],
  [
    'Add',
    './Vendor/MSFT/Policy/ConfigOperations/ADMXInstall/Contoso/Policy/1',
    'chr',
    '<policyDefinitions revision="1.0"><policies><policy name="P1" class="Machine" key="Software\\Contoso"/></policies></policyDefinitions>',
  ],
  [
    'Exec',
    MSI('{A1B2C3D4-0000-1111-2222-333344445555}')[0],
    'xml',
    MSI('{A1B2C3D4-0000-1111-2222-333344445555}')[1],
  ],
  [
    'Exec',
    MSI('{F0E1D2C3-9999-8888-7777-666655554444}')[0],
    'xml',
    MSI('{F0E1D2C3-9999-8888-7777-666655554444}')[1],
  ],
  ['Delete', './Vendor/MSFT/NodeCache/MS%20DM%20Server/Nodes/7'],
];

/** The research note's 20-command response: 6 Status, 5 Get, 4 Replace, 2 Add, 2 Exec, 1 Delete. */
export function benchResponse(): SyncmlMessageInput {
  const refs = ['0:SyncHdr', '1:Alert', '2:Alert', '3:Replace', '4:Results', '5:Results'];
  const commands: SyncmlCommand[] = refs.map((r, i) => {
    const [cmdRef, cmd] = r.split(':');
    return status(String(i + 1), '2', cmdRef, cmd, '200');
  });
  for (const [kind, target, format, data] of RESPONSE_OPS) {
    const item: SyncmlItem = format ? { target, meta: { format }, data } : { target };
    commands.push({ kind, cmdId: String(commands.length + 1), items: [item] });
  }
  const header = { sessionId: '1A', msgId: '3', target: DEVICE, source: SERVER };
  return { header, commands, final: true };
}

export interface Row {
  /** What was measured, e.g. `parse+build 20 KB`. */
  label: string;
  /** Input bytes per operation (the built size for build rows). */
  bytes: number;
  opsPerSec: number;
  mbPerSec: number;
  usPerOp: number;
  /** The baseline measured on the same input. */
  baseline: string;
  baselineOpsPerSec: number;
  /** How many times slower than the baseline (codec time / baseline time). */
  ratio: number;
}

const ROUNDS = 5;
const ROUND_MS = 200;

function opsPerSec(fn: () => unknown): number {
  for (const end = performance.now() + ROUND_MS; performance.now() < end;) fn();
  const samples: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let n = 0;
    const start = performance.now();
    let now = start;
    while (now - start < ROUND_MS) {
      for (let i = 0; i < 8; i++) fn();
      n += 8;
      now = performance.now();
    }
    samples.push(n / ((now - start) / 1000));
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1];
}

function bareSaxes(xml: string): void {
  new SaxesParser({ xmlns: true, position: true }).write(xml).close();
}

function row(label: string, bytes: number, ops: number, baseline: string, baseOps: number): Row {
  return {
    label,
    bytes,
    opsPerSec: ops,
    mbPerSec: (ops * bytes) / 1e6,
    usPerOp: 1e6 / ops,
    baseline,
    baselineOpsPerSec: baseOps,
    ratio: baseOps / ops,
  };
}

const ESC: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};
const x = (v: string): string => v.replace(/[&<>"']/g, (c) => ESC[c]);

// The research note's baseline: typed template strings + one escape (bench only, never output).
function templateBuild(m: SyncmlMessageInput): string {
  const h = m.header;
  const item = (i: SyncmlItem): string =>
    `<Item>${i.target === undefined ? '' : `<Target><LocURI>${x(i.target)}</LocURI></Target>`}` +
    (i.meta?.format === undefined
      ? ''
      : `<Meta><Format xmlns="syncml:metinf">${x(i.meta.format)}</Format></Meta>`) +
    `${i.data === undefined ? '' : `<Data>${x(i.data)}</Data>`}</Item>`;
  const cmd = (c: SyncmlCommand): string => {
    if (c.kind === 'Status') {
      return `<Status><CmdID>${x(c.cmdId)}</CmdID><MsgRef>${x(c.msgRef)}</MsgRef><CmdRef>${x(c.cmdRef)}</CmdRef><Cmd>${x(c.cmd)}</Cmd><Data>${x(c.data)}</Data></Status>`;
    }
    if (!('items' in c)) throw new Error(`template baseline does not write ${c.kind}`);
    return `<${c.kind}><CmdID>${x(c.cmdId)}</CmdID>${c.items.map(item).join('')}</${c.kind}>`;
  };
  return (
    `<?xml version="1.0" encoding="UTF-8"?><SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>` +
    `<SessionID>${x(h.sessionId)}</SessionID><MsgID>${x(h.msgId)}</MsgID><Target><LocURI>${x(h.target)}</LocURI></Target>` +
    `<Source><LocURI>${x(h.source)}</LocURI></Source></SyncHdr><SyncBody>${m.commands.map(cmd).join('')}<Final/></SyncBody></SyncML>`
  );
}

export async function runCodecBench(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [label, target] of [
    ['2 KB', 2 * 1024],
    ['20 KB', 20 * 1024],
    ['200 KB', 200 * 1024],
  ] as const) {
    const xml = benchDeviceMessage(target, 42);
    const buf = Buffer.from(xml, 'utf8');
    const parsed = parseSyncml(buf);
    const saxes = opsPerSec(() => bareSaxes(xml));
    const parse = opsPerSec(() => parseSyncml(buf));
    const both = opsPerSec(() => buildSyncml(parseSyncml(buf)));
    rows.push(
      row(
        `parse ${label} (${parsed.commands.length} cmds)`,
        buf.length,
        parse,
        'bare saxes',
        saxes,
      ),
    );
    rows.push(row(`parse+build ${label}`, buf.length, both, 'bare saxes', saxes));
    await new Promise((resolve) => setImmediate(resolve));
  }
  const response = benchResponse();
  const built = buildSyncml(response);
  const reference = JSON.stringify(parseSyncml(templateBuild(response)));
  if (JSON.stringify(parseSyncml(built)) !== reference) throw new Error('baselines disagree');
  const template = opsPerSec(() => templateBuild(response));
  const codec = opsPerSec(() => buildSyncml(response));
  rows.push(
    row(
      `build ${response.commands.length}-command response`,
      Buffer.byteLength(built),
      codec,
      'template strings',
      template,
    ),
  );
  return rows;
}

export function formatRows(rows: readonly Row[]): string {
  const head = '| case | bytes | ops/s | MB/s | µs/op | baseline | baseline ops/s | × slower |';
  const lines = rows.map(
    (r) =>
      `| ${r.label} | ${r.bytes} | ${r.opsPerSec.toFixed(0)} | ${r.mbPerSec.toFixed(1)} | ` +
      `${r.usPerOp.toFixed(1)} | ${r.baseline} | ${r.baselineOpsPerSec.toFixed(0)} | ${r.ratio.toFixed(2)} |`,
  );
  return [head, '|---|---|---|---|---|---|---|---|', ...lines].join('\n');
}

if (require.main === module) {
  const started = performance.now();
  void runCodecBench().then((rows) => {
    console.log(formatRows(rows));
    console.log(`\n${((performance.now() - started) / 1000).toFixed(1)} s`);
  });
}
