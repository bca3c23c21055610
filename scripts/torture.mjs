#!/usr/bin/env node
// Lost-write torture: every strategy x io mode x ranks, repeatedly, with ranks skewed by
// random delays, MPI-IO write data sieving forced on, and byte-range locks made
// ineffective (LD_PRELOAD fcntl shim). After every run `verify` must report 0 lost
// tiles and the output must be bit-identical to the reference.
//
//   node scripts/torture.mjs [--ranks 1-6] [--repeat 3] [--skew-ms 300] [--tiles 4x4] [--tile 64] [--quick]
// Ranks are skewed through the test hooks (H5STITCH_TEST_HOOKS skewMs), not a product option.
// Prints a table (setting, runs, lost tiles); exit 1 if any tile was lost or any run failed.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const stitch = path.join(root, 'dist', 'stitch.js');
const shim = path.join(root, 'build', 'testing', 'fcntl-nolock.so');

const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const quick = argv.includes('--quick');
const [loRanks, hiRanks] = opt('ranks', quick ? '2-3' : '1-6').split('-').map(Number);
const repeat = Number(opt('repeat', quick ? '1' : '3'));
const skewMs = opt('skew-ms', quick ? '60' : '300');
const tiles = opt('tiles', quick ? '3x3' : '4x4');
const tile = opt('tile', quick ? '48' : '64');

const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(OMPI_|PMIX_|ORTE_|OPAL_)/.test(k))),
  OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1', OMPI_MCA_rmaps_base_oversubscribe: '1', OMPI_MCA_mpi_yield_when_idle: '1', NO_COLOR: '1' };
const run = (cmd, args, extraEnv = {}) => spawnSync(cmd, args, { env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 300_000, killSignal: 'SIGKILL' });

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'h5stitch-torture-'));
const input = path.join(work, 'in.h5');
if (run(process.execPath, [stitch, 'generate', input, '--tiles', tiles, '--tile', tile, '--overlap', '8']).status !== 0) throw new Error('generate failed');
const reference = path.join(work, 'ref.h5');
if (run('mpirun', ['-n', '1', process.execPath, stitch, input, '--out', reference, '--strategy', 'serial']).status !== 0) throw new Error('reference stitch failed');
const { openFile, readAll } = require(path.join(root, 'dist', 'runtime', 'hdf5.js'));
const bytesOf = (file) => {
  const f = openFile(file);
  const data = readAll(f.openDataset('/stitched'));
  f.close();
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
};
const referenceBytes = bytesOf(reference);

// The hostile setting: sieving on in both MPI-IO layers, locks that lock nothing.
const hostile = {
  args: ['--keep-data-sieving', '--hint', 'romio_ds_write=enable'],
  env: { LD_PRELOAD: shim, OMPI_MCA_fbtl_posix_write_datasieving: '1', H5STITCH_TEST_HOOKS: JSON.stringify({ skewMs: Number(skewMs) }) },
};
const settings = [];
for (const layer of ['ompio', 'romio321']) {
  for (const [strategy, io] of [['slab', 'collective'], ['slab', 'independent'], ['serial', 'independent'], ['rounds', 'collective'], ['rounds', 'independent']]) {
    settings.push({ name: `${strategy}/${io}/${layer}`, strategy, io, layer });
  }
}

const rows = [];
let bad = 0;
for (const s of settings) {
  let runs = 0, lost = 0, refused = 0, failed = 0, differing = 0;
  for (let ranks = loRanks; ranks <= hiRanks; ranks++) {
    for (let k = 0; k < repeat; k++) {
      const out = path.join(work, `out-${ranks}-${k}.h5`);
      const job = run('mpirun', ['-n', String(ranks), process.execPath, stitch, input, '--out', out, '--force', '--strategy', s.strategy, '--io', s.io, ...hostile.args],
        { ...hostile.env, OMPI_MCA_io: s.layer });
      runs++;
      if (job.status === 2 && /unsafe/.test(job.stderr)) { refused++; continue; }
      if (job.status !== 0) { failed++; process.stderr.write(job.stderr); continue; }
      const verify = run('mpirun', ['-n', '2', process.execPath, stitch, 'verify', out, '--input', input, '--json']);
      const report = JSON.parse(verify.stdout.trim().split('\n').pop() || '{}');
      lost += (report.failed ?? []).length;
      if (!bytesOf(out).equals(referenceBytes)) differing++;
      fs.rmSync(out, { force: true });
    }
  }
  bad += lost + failed + differing;
  rows.push({ setting: s.name, runs, refused, failed, 'lost tiles': lost, 'not bit-identical': differing });
}
fs.rmSync(work, { recursive: true, force: true });
const columns = Object.keys(rows[0]);
const width = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
const line = (cells) => cells.map((c, i) => String(c).padEnd(width[i])).join('  ');
console.log(`torture: ranks ${loRanks}-${hiRanks}, ${repeat} repeats, skew 0-${skewMs} ms, ${tiles} tiles of ${tile}, sieving on, locks ineffective`);
console.log(line(columns));
for (const r of rows) console.log(line(columns.map((c) => r[c])));
console.log(bad === 0 ? 'torture: 0 lost tiles' : `torture: FAILED (${bad} lost tiles, failed or differing runs)`);
process.exit(bad === 0 ? 0 : 1);
