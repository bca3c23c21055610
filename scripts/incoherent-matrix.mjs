#!/usr/bin/env node
// Lost tiles when the nodes' caches of one shared file system disagree: the classic h5py
// read-add-write recipe against every h5stitch strategy, on 2 and 3 "nodes" of the
// incoherent-cache harness (scripts/incoherent-fs.sh, ranks placed by scripts/on-node.sh),
// for several tile grids and dtypes, rank counts, both MPI-IO layers, repeated.
//
//   node scripts/incoherent-matrix.mjs [--nodes 2,3] [--ranks 1-6] [--repeat 3] [--grids 6x6:256:float32,4x4:128:uint16]
//                                      [--layers ompio,romio321] [--settings classic,slab,...] [--map cyclic|block] [--quick] [--json]
//
// h5stitch outputs are checked with `verify` on the local (coherent) path of the shared
// directory; the classic recipe's, which carry no provenance for verify, with
// scripts/compare-tiles.mjs against a one-process classic run on the local path (a tile is wrong
// if any of its pixels differs). Prints a table: setting, runs, failed, refused, runs with wrong
// tiles, wrong tiles (sum, worst run, each run), what is expected (--json also gives the
// classic recipe's zeroed pixels and the tiles verify calls missing). Exit 1 when a setting
// expected exact lost a tile or any run failed, or when the classic recipe never lost a tile on
// more than one node (then the harness proved nothing). Needs root, /dev/fuse, python3-h5py-mpi.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stitch = path.join(root, 'dist', 'stitch.js');
const harness = path.join(root, 'scripts', 'incoherent-fs.sh');
const onNode = path.join(root, 'scripts', 'on-node.sh');
const classic = path.join(root, 'bench', 'classic_stitch.py');
const compareTiles = path.join(root, 'scripts', 'compare-tiles.mjs');
const bindTarget = '/mnt/h5stitch-shared';

const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const quick = argv.includes('--quick');
const asJson = argv.includes('--json');
const nodeCounts = opt('nodes', quick ? '2' : '2,3').split(',').map(Number);
const [loRanks, hiRanks] = opt('ranks', quick ? '4-4' : '1-6').split('-').map(Number);
const repeat = Number(opt('repeat', quick ? '1' : '3'));
const layers = opt('layers', quick ? 'ompio' : 'ompio,romio321').split(',');
const nodeMap = opt('map', 'cyclic');
const grids = opt('grids', quick ? '6x6:256:float32' : '6x6:256:float32,4x4:128:uint16').split(',').map((spec) => {
  const [tiles, tile, dtype = 'float32'] = spec.split(':');
  if (!/^\d+x\d+$/.test(tiles) || !/^\d+$/.test(tile)) throw new Error(`--grids entry ${spec}: expected RxC:TILE[:DTYPE]`);
  return { tiles, tile: Number(tile), dtype, overlap: Math.round(Number(tile) / 10), name: `${tiles}:${tile}:${dtype}` };
});
for (const n of nodeCounts) if (n !== 2 && n !== 3) throw new Error('--nodes takes 2 and/or 3');
if (!(loRanks >= 1 && hiRanks >= loRanks)) throw new Error('--ranks takes LO-HI, e.g. 1-6');

// Every setting: how to run it on R ranks, and what it must show.
// 'exact': never reads back what another rank wrote (or one rank does all the I/O): must lose nothing.
// 'rmw': reads back other ranks' bytes (read-modify-write): correct only where caches agree.
const allAggregators = (layer, ranks) => layer === 'ompio'
  ? { args: [], env: { OMPI_MCA_io_ompio_num_aggregators: String(ranks) } }
  : { args: ['--hint', 'cb_config_list=*:*', '--hint', `cb_nodes=${ranks}`], env: {} };
const SETTINGS = {
  'classic': { tool: 'classic', expect: 'loses', note: 'h5py read-add-write, parity rounds' },
  'classic-one-node': { tool: 'classic', expect: 'exact', oneNode: true, note: 'control: every rank on node0' },
  'slab': { tool: 'h5stitch', args: ['--strategy', 'slab'], expect: 'exact' },
  'slab-independent': { tool: 'h5stitch', args: ['--strategy', 'slab', '--io', 'independent'], expect: 'exact' },
  'slab-all-aggregators': { tool: 'h5stitch', args: ['--strategy', 'slab'], aggregators: true, expect: 'exact', note: 'a collective aggregator on every rank' },
  // Read-back strategies: refused on a file system whose caches may disagree (exit 2) ...
  'serial': { tool: 'h5stitch', args: ['--strategy', 'serial'], expect: 'refused', note: 'rank 0 (node0) does all the I/O' },
  'rounds': { tool: 'h5stitch', args: ['--strategy', 'rounds'], expect: 'refused' },
  'rounds-independent': { tool: 'h5stitch', args: ['--strategy', 'rounds', '--io', 'independent'], expect: 'refused' },
  // ... and what they do when a user overrides the refusal (--trust-fs-coherence).
  'serial-trusted': { tool: 'h5stitch', args: ['--strategy', 'serial', '--trust-fs-coherence'], expect: 'rmw', note: 'rank 0 (node0) does all the I/O' },
  'rounds-trusted': { tool: 'h5stitch', args: ['--strategy', 'rounds', '--trust-fs-coherence'], expect: 'rmw', note: 'collective: MPI sees one host, so one aggregator' },
  'rounds-all-aggregators-trusted': { tool: 'h5stitch', args: ['--strategy', 'rounds', '--trust-fs-coherence'], aggregators: true, expect: 'rmw', note: 'collective, an aggregator on every rank (as on a real cluster: one or more per node)' },
  'rounds-independent-trusted': { tool: 'h5stitch', args: ['--strategy', 'rounds', '--io', 'independent', '--trust-fs-coherence'], expect: 'rmw' },
};
const settingNames = opt('settings', Object.keys(SETTINGS).join(',')).split(',');
for (const s of settingNames) if (!SETTINGS[s]) throw new Error(`unknown setting ${s}; known: ${Object.keys(SETTINGS).join(', ')}`);

const baseEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(OMPI_|PMIX_|ORTE_|OPAL_)/.test(k))),
  OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1', OMPI_MCA_rmaps_base_oversubscribe: '1', OMPI_MCA_mpi_yield_when_idle: '1', NO_COLOR: '1',
};
const state = fs.mkdtempSync(path.join(os.tmpdir(), 'h5stitch-incoherent-matrix-'));
const harnessEnv = { H5STITCH_INCOHERENT_DIR: state, H5STITCH_SHARED_MOUNT: bindTarget, H5STITCH_NODE_MAP: nodeMap };
const run = (cmd, args, extraEnv = {}) =>
  spawnSync(cmd, args, { cwd: root, env: { ...baseEnv, ...harnessEnv, ...extraEnv }, encoding: 'utf8', timeout: 600_000, killSignal: 'SIGKILL', maxBuffer: 64 << 20 });
const lastLine = (text) => text.trim().split('\n').pop() ?? '';
const firstError = (job) => (job.stderr.split('\n').find((l) => /error/i.test(l)) ?? lastLine(job.stderr) ?? `exit ${job.status}`).slice(0, 200);
const say = (line) => process.stderr.write(`incoherent-matrix: ${line}\n`);

let harnessUp = false;
function stopHarness() {
  if (!harnessUp) return;
  run('bash', [harness, 'stop']);
  harnessUp = false;
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => { stopHarness(); process.exit(130); });

const shared = path.join(state, 'shared');
const rows = [];
let serial = 0;
const started = Date.now();
try {
  for (const nodes of nodeCounts) {
    const start = run('bash', [harness, 'start', '--nodes', String(nodes)]);
    if (start.status !== 0) throw new Error(`the harness did not start: ${start.stderr.trim() || start.stdout.trim()}`);
    harnessUp = true;
    for (const grid of grids) {
      // Inputs written and references computed on the local path: no node has them cached yet.
      const inputName = `in-${grid.tiles}-${grid.tile}-${grid.dtype}-${nodes}.h5`;
      const input = path.join(shared, inputName);
      const gen = run(process.execPath, [stitch, 'generate', input, '--tiles', grid.tiles, '--tile', String(grid.tile), '--overlap', String(grid.overlap), '--dtype', grid.dtype, '--force']);
      if (gen.status !== 0) throw new Error(`generate failed: ${gen.stderr}`);
      const reference = path.join(shared, `reference-${inputName}`);
      const ref = run('python3', [classic, input, '--out', reference]);
      if (ref.status !== 0) throw new Error(`the one-process classic reference failed: ${ref.stderr}`);

      for (const layer of layers) {
        for (const name of settingNames) {
          const s = SETTINGS[name];
          const row = { nodes, grid: grid.name, layer, setting: name, expect: s.expect, runs: 0, failed: 0, refused: 0, runsWithWrong: 0, wrongTiles: 0, worstRun: 0, perRun: [], zeroedPixels: 0, missingTiles: 0, tiles: 0, errors: [] };
          for (let ranks = loRanks; ranks <= hiRanks; ranks++) {
            for (let k = 0; k < repeat; k++) {
              const outName = `out-${++serial}.h5`;
              // Through the node mounts; classic-one-node: straight through node0's mount, no namespaces.
              const dir = s.oneNode ? path.join(state, 'node0') : bindTarget;
              const launch = s.oneNode ? [] : [onNode];
              const agg = s.aggregators ? allAggregators(layer, ranks) : { args: [], env: {} };
              const env = { OMPI_MCA_io: layer, ...agg.env };
              const job = s.tool === 'classic'
                ? run('mpirun', ['-n', String(ranks), ...launch, 'python3', classic, `${dir}/${inputName}`, '--out', `${dir}/${outName}`], env)
                : run('mpirun', ['-n', String(ranks), ...launch, process.execPath, stitch, `${dir}/${inputName}`, '--out', `${dir}/${outName}`, ...s.args, ...agg.args, '--json'], env);
              row.runs++;
              const local = path.join(shared, outName);
              if (job.status === 2 && /coheren|--trust-fs/i.test(job.stderr)) row.refused++;
              else if (job.status !== 0) { row.failed++; row.errors.push(`${ranks} ranks: ${firstError(job)}`); }
              else {
                let wrong, tiles;
                if (s.tool === 'classic') {
                  const cmp = run(process.execPath, [compareTiles, local, reference, '--input', input, '--json']);
                  try {
                    const result = JSON.parse(lastLine(cmp.stdout));
                    ({ wrong, tiles } = result);
                    row.zeroedPixels += result.wrongTiles.reduce((sum, t) => sum + t.zeroed, 0);
                  } catch { row.failed++; row.errors.push(`compare: ${firstError(cmp)}`); }
                } else {
                  const verify = run('mpirun', ['-n', '2', process.execPath, stitch, 'verify', local, '--input', input, '--json']);
                  try {
                    const report = JSON.parse(lastLine(verify.stdout));
                    wrong = report.failed.length; tiles = report.tiles.length;
                    row.missingTiles += report.failed.filter((t) => t.status === 'missing').length;
                    if (!report.complete) { row.failed++; row.errors.push(`${ranks} ranks: output not marked complete`); }
                  } catch { row.failed++; row.errors.push(`verify: ${firstError(verify)}`); }
                }
                if (wrong !== undefined) {
                  row.tiles = tiles;
                  row.wrongTiles += wrong;
                  row.worstRun = Math.max(row.worstRun, wrong);
                  row.perRun.push(wrong);
                  if (wrong > 0) row.runsWithWrong++;
                }
              }
              for (const f of [local, path.join(shared, `.${outName}.h5stitch-partial`)]) fs.rmSync(f, { force: true });
            }
          }
          rows.push(row);
          say(`${nodes} nodes ${grid.name} ${layer} ${name}: ${row.runs} runs, ${row.failed} failed, ${row.refused} refused, ${row.wrongTiles} wrong tiles in ${row.runsWithWrong} runs (${Math.round((Date.now() - started) / 1000)} s)`);
        }
      }
    }
  }
} finally {
  stopHarness();
  fs.rmSync(state, { recursive: true, force: true });
}

const failures = [];
for (const r of rows) {
  const where = `${r.nodes} nodes ${r.grid} ${r.layer} ${r.setting}`;
  if (r.failed > 0) failures.push(`${where}: ${r.failed} runs failed (${r.errors[0]})`);
  if ((r.expect === 'exact' || r.expect === 'refused') && r.wrongTiles > 0) failures.push(`${where}: ${r.wrongTiles} wrong tiles where none may be`);
  // One rank is coherent with itself: only multi-rank runs must be refused.
  const multiRank = r.runs - (loRanks === 1 ? repeat : 0);
  if (r.expect === 'refused' && r.refused < multiRank) failures.push(`${where}: ${multiRank - r.refused} multi-rank runs were not refused`);
}
const classicRows = rows.filter((r) => r.setting === 'classic');
if (classicRows.length > 0 && hiRanks > 1 && classicRows.every((r) => r.wrongTiles === 0)) failures.push('the classic recipe lost no tile on several nodes: the caches did not disagree, nothing was tested');

const seconds = Math.round((Date.now() - started) / 1000);
if (asJson) {
  console.log(JSON.stringify({ ranks: `${loRanks}-${hiRanks}`, repeat, map: nodeMap, seconds, rows, failures }));
} else {
  const header = ['nodes', 'grid', 'layer', 'setting', 'runs', 'failed', 'refused', 'runs with wrong', 'wrong tiles', 'worst run', 'expect', 'wrong tiles per run'];
  const table = rows.map((r) => [r.nodes, r.grid, r.layer, r.setting, r.runs, r.failed, r.refused, r.runsWithWrong, r.wrongTiles, `${r.worstRun}/${r.tiles}`, r.expect, r.perRun.join(',')].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells) => cells.map((c, i) => (i >= 4 && i <= 9 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  console.log(`ranks ${loRanks}-${hiRanks}, ${repeat} repeats, rank -> node ${nodeMap}; ${seconds} s`);
  console.log(line(header));
  for (const row of table) console.log(line(row));
  console.log('expect: exact = must lose nothing; refused = must be refused (exit 2) with more than one rank; loses = the classic recipe, expected to lose tiles; rmw = read-modify-write forced with --trust-fs-coherence, correct only where caches agree');
  for (const f of failures) console.log(`FAIL ${f}`);
  console.log(failures.length === 0 ? 'incoherent-matrix: ok' : `incoherent-matrix: ${failures.length} failures`);
}
process.exit(failures.length === 0 ? 0 : 1);
