/**
 * register: positions from overlaps, checked against the generator's true positions; the same
 * bits at 1, 2, 3 and 4 ranks; the pairwise shifts against scikit-image; stitch --positions FILE:/DS.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { native } from '../lib/runtime/addon';
import { openFile, readAll } from '../lib/runtime/hdf5';
import { mpirun, node, run, stitchJs, tempDir } from './helpers/mpirun';

const dir = tempDir('h5stitch-register-');
// Purely random ±30 px jitter on a 80 px overlap (neighbours can be 60 px off, leaving a 20 px
// overlap) and 2 blank tiles, whose random error no method can know: they must say so.
const jittered = path.join(dir, 'jittered.h5');
// A real stage: a systematic error up to ±30 px (scale, skew, thermal drift) plus ±1 px random
// repeatability, 4 blank tiles: these must land within 2 px.
const drifting = path.join(dir, 'drifting.h5');
// Small jitter, a 1% stage scale error and 3 blank tiles (the scikit-image cross-check's set).
const withBlank = path.join(dir, 'blank.h5');

function read(file: string, dataset: string): Float64Array {
  const h5 = openFile(file, { mode: 'r' });
  try {
    const ds = h5.openDataset(dataset);
    const values = Float64Array.from(readAll(ds) as ArrayLike<number>);
    ds.close();
    return values;
  } finally {
    h5.close();
  }
}

/** Each tile's distance from its true position, after removing the mean translation over `textured`. */
function positionErrors(truth: Float64Array, positions: Float64Array, textured: number[]): number[] {
  let oy = 0, ox = 0;
  for (const i of textured) { oy += positions[2 * i] - truth[2 * i]; ox += positions[2 * i + 1] - truth[2 * i + 1]; }
  oy /= textured.length;
  ox /= textured.length;
  return Array.from({ length: truth.length / 2 }, (_, i) => Math.hypot(positions[2 * i] - truth[2 * i] - oy, positions[2 * i + 1] - truth[2 * i + 1] - ox));
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];

/** mpirun with ranks free to use both cores (Open MPI binds 1-2 ranks to one core each). */
function mpirunFree(ranks: number, args: string[]) {
  return run('mpirun', ['-n', String(ranks), '--bind-to', 'none', process.execPath, ...args]);
}

beforeAll(() => {
  for (const [file, args] of [
    [jittered, ['--tiles', '5x5', '--tile', '320', '--overlap', '80', '--jitter', '30', '--blank', '2', '--noise', '0.05', '--seed', '3']],
    [drifting, ['--tiles', '8x8', '--tile', '160', '--overlap', '48', '--drift', '30', '--jitter', '1', '--blank', '4', '--seed', '1']],
    [withBlank, ['--tiles', '5x5', '--tile', '200', '--overlap', '50', '--jitter', '2', '--stage-scale', '0.01', '--blank', '3', '--noise', '0.05', '--seed', '5']],
  ] as const) {
    const job = node([stitchJs, 'generate', file, '--dtype', 'uint16', ...args]);
    expect(job.code, job.stderr).toBe(0);
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('register', () => {
  it('finds every textured tile within a quarter pixel (median) under ±30 px random jitter, with the same bits at 1, 2, 3 and 4 ranks; blank tiles modelled with their uncertainty', () => {
    const bits: string[] = [];
    let report: { tileTable: Array<{ index: number; status: string; uncertainty?: number }>; model: { predictionRms: number } } | undefined;
    for (const ranks of [1, 2, 3, 4]) {
      const out = path.join(dir, `positions-${ranks}.h5`), reportFile = path.join(dir, `report-${ranks}.json`);
      const job = mpirunFree(ranks, [stitchJs, 'register', jittered, '--out', out, '--max-shift', '64', '--report', reportFile]);
      expect(job.code, job.stderr).toBe(0);
      expect(job.stdout).toMatch(new RegExp(`^h5stitch: registered 25 tiles .*: 23 registered, 0 in separate groups, 2 modelled; \\d+/40 pairs kept.*; ${ranks} ranks`, 'm'));
      report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
      bits.push(Buffer.from(read(out, '/positions').buffer).toString('hex'));
    }
    for (const b of bits) expect(b).toBe(bits[0]);

    const truth = read(jittered, '/true_positions'), positions = read(path.join(dir, 'positions-1.h5'), '/positions');
    const blank = Array.from(read(jittered, '/blank_tiles'));
    const textured = Array.from({ length: 25 }, (_, i) => i).filter((i) => !blank.includes(i));
    const errors = positionErrors(truth, positions, textured);
    expect(median(textured.map((i) => errors[i]))).toBeLessThanOrEqual(0.25);
    expect(Math.max(...textured.map((i) => errors[i]))).toBeLessThanOrEqual(1);
    // A blank tile's random error is unknowable: it is modelled, and its uncertainty says how far
    // off it may be (the model's error predicting registered tiles from their neighbours).
    const modelled = report!.tileTable.filter((t) => t.status === 'modelled');
    expect(modelled.map((t) => t.index)).toEqual(blank);
    for (const t of modelled) {
      expect(t.uncertainty).toBe(report!.model.predictionRms);
      expect(t.uncertainty).toBeGreaterThan(10);
      expect(errors[t.index]).toBeLessThanOrEqual(2 * t.uncertainty!);
    }
    // Canvas origin at 0.
    expect(Math.min(...positions.filter((_, k) => k % 2 === 0))).toBe(0);
    expect(Math.min(...positions.filter((_, k) => k % 2 === 1))).toBe(0);
  });

  it('places blank tiles within 2 px when the stage error is systematic (±30 px) plus ±1 px random, and says why', () => {
    const out = path.join(dir, 'drift-positions.h5'), reportFile = path.join(dir, 'drift-report.json');
    const picture = path.join(dir, 'drift.svg');
    const job = mpirunFree(2, [stitchJs, 'register', drifting, '--out', out, '--max-shift', '24', '--report', reportFile, '--picture', picture]);
    expect(job.code, job.stderr).toBe(0);
    const blank = Array.from(read(drifting, '/blank_tiles'));
    expect(blank).toHaveLength(4);
    for (const b of blank) expect(job.stdout).toMatch(new RegExp(`^  tile ${b}: modelled: no kept link \\(.*low-ncc.*uncertain by ±[01]\\.\\d\\d px$`, 'm'));
    const report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
    expect(report.tileTable.filter((t: { status: string }) => t.status === 'modelled').map((t: { index: number }) => t.index)).toEqual(blank);
    // Every rejected pair touches a blank tile; every kept one is consistent with the solution.
    for (const p of report.pairTable) {
      if (p.status !== 'kept') expect(blank.includes(p.a) || blank.includes(p.b), JSON.stringify(p)).toBe(true);
      else expect(p.residual).toBeLessThan(1);
    }
    expect(report.nccThreshold.source).toMatch(/99th percentile of \d+ null pairs/);
    const truth = read(drifting, '/true_positions'), positions = read(out, '/positions');
    // The stage error really is up to ±30 px: the true positions are far from the grid.
    const systematic = read(drifting, '/systematic_positions');
    const step = 160 - 48;
    expect(Math.max(...Array.from({ length: 128 }, (_, k) => Math.abs(systematic[k] - step * (k % 2 === 0 ? Math.floor(k / 16) : (k >> 1) % 8))))).toBeCloseTo(30, 6);
    const textured = Array.from({ length: 64 }, (_, i) => i).filter((i) => !blank.includes(i));
    const errors = positionErrors(truth, positions, textured);
    expect(median(textured.map((i) => errors[i]))).toBeLessThanOrEqual(0.25);
    expect(Math.max(...textured.map((i) => errors[i]))).toBeLessThanOrEqual(1);
    for (const b of blank) expect(errors[b]).toBeLessThanOrEqual(2);
    // The pair table and tile status are in the file too.
    expect(read(out, '/pairs').length).toBe(report.pairTable.length * 7);
    expect(Array.from(read(out, '/tile_status')).filter((s) => s === 2)).toHaveLength(4);

    // The picture, read by an XML parser no one here wrote: one line per pair, in table order;
    // kept links coloured by residual, rejected ones dashed with the reason; modelled tiles marked.
    const parse = 'import sys, json, xml.etree.ElementTree as ET\nns = "{http://www.w3.org/2000/svg}"\nroot = ET.parse(sys.argv[1]).getroot()\n' +
      'links = [dict(e.attrib, title=e.find(ns + "title").text) for e in root.iter(ns + "line") if e.get("class") == "link"]\n' +
      'tiles = [dict(e.attrib) for e in root.iter(ns + "rect") if e.get("class") == "tile"]\n' +
      'legend = [e.get("fill") for e in root.iter(ns + "rect") if e.get("class") == "legend-residual"]\n' +
      'print(json.dumps({"links": links, "tiles": tiles, "legend": legend}))\n';
    const py = spawnSync('/usr/bin/python3', ['-c', parse, picture], { encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    const svg = JSON.parse(py.stdout) as { links: Array<Record<string, string>>; tiles: Array<Record<string, string>>; legend: string[] };
    const scale = [[0.1, '#1a9850'], [0.25, '#91cf60'], [0.5, '#fee08b'], [1, '#fc8d59'], [Infinity, '#d73027']] as const;
    expect(svg.legend).toEqual(scale.map(([, colour]) => colour));
    expect(svg.links).toHaveLength(report.pairTable.length);
    report.pairTable.forEach((p: { a: number; b: number; status: string; residual: number }, k: number) => {
      const line = svg.links[k];
      expect([Number(line['data-a']), Number(line['data-b']), line['data-status']]).toEqual([p.a, p.b, p.status]);
      if (p.status === 'kept') {
        expect(line.stroke).toBe(scale.find(([below]) => p.residual < below)![1]);
        expect(line['stroke-dasharray']).toBeUndefined();
      } else {
        expect(line.stroke).toBe('#9e9e9e');
        expect(line['stroke-dasharray']).toBeDefined();
        expect(line.title).toContain(`${p.a}-${p.b}: ${p.status}`);
      }
    });
    expect(svg.links.filter((l) => l['data-status'] === 'kept').map((l) => l.stroke)).toContain('#1a9850');
    expect(svg.tiles).toHaveLength(64);
    expect(svg.tiles.filter((t) => t['data-status'] === 'modelled').map((t) => Number(t['data-index']))).toEqual(blank);
  });

  it('stitches at the registered positions (stitch --positions FILE:/positions) and verifies', () => {
    const positions = path.join(dir, 'positions-1.h5');
    const out = path.join(dir, 'stitched.h5');
    const job = mpirunFree(2, [stitchJs, jittered, '--out', out, '--positions', `${positions}:/positions`, '--verify']);
    expect(job.code, job.stderr).toBe(0);
    expect(job.stdout).toMatch(/^h5stitch verify: OK: 25\/25 tiles ok/m);
    // The canvas spans the rounded positions.
    const p = read(positions, '/positions');
    const maxY = Math.max(...Array.from(p.filter((_, k) => k % 2 === 0), Math.round)), maxX = Math.max(...Array.from(p.filter((_, k) => k % 2 === 1), Math.round));
    expect(job.stdout).toContain(`(${maxY + 320}x${maxX + 320} float32`);
    // A JSON list works too; the original in-INPUT form still does.
    const json = path.join(dir, 'positions.json');
    fs.writeFileSync(json, JSON.stringify(Array.from({ length: 25 }, (_, i) => [p[2 * i], p[2 * i + 1]])));
    expect(node([stitchJs, jittered, '--out', path.join(dir, 'json.h5'), '--positions', json]).code).toBe(0);
    expect(node([stitchJs, jittered, '--out', path.join(dir, 'in-input.h5'), '--positions', '/true_positions']).code).toBe(0);
  });

  it('registers and stitches in one job (stitch --register), the registration stored with the output', () => {
    const out = path.join(dir, 'one-job.h5');
    const job = mpirunFree(2, [stitchJs, jittered, '--out', out, '--register', '--max-shift', '64', '--verify']);
    expect(job.code, job.stderr).toBe(0);
    expect(job.stdout).toMatch(/^h5stitch: registered 25 tiles of .*jittered\.h5: 23 registered, 0 in separate groups, 2 modelled;/m);
    expect(job.stdout).toMatch(/^h5stitch verify: OK: 25\/25 tiles ok/m);
    // The same positions as `register` writes (same algorithm, same bits), beside the provenance.
    const registered = read(path.join(dir, 'positions-1.h5'), '/positions');
    expect(Buffer.from(read(out, '/h5stitch/registration/positions').buffer).equals(Buffer.from(registered.buffer))).toBe(true);
    expect(read(out, '/h5stitch/registration/pairs').length).toBe(40 * 7);
    // The placement recorded in the provenance is the registered one, rounded.
    const placed = read(out, '/h5stitch/tiles');
    for (let row = 0; row < 25; row++) {
      const i = placed[5 * row];
      expect([placed[5 * row + 1], placed[5 * row + 2]]).toEqual([Math.round(registered[2 * i]), Math.round(registered[2 * i + 1])]);
    }
    // A standalone verify of the finished file still passes.
    expect(node([stitchJs, 'verify', out, '--input', jittered]).code).toBe(0);
    // Registration options without --register are refused.
    const bad = node([stitchJs, jittered, '--out', path.join(dir, 'x.h5'), '--max-shift', '5']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('h5stitch: error: --max-shift, --min-ncc and --peaks need --register');
  });

  it('generates the same registration set at 1 and 3 ranks (each rank renders its own tiles)', () => {
    const args = ['--tiles', '5x4', '--tile', '120x150', '--overlap', '30', '--drift', '10', '--jitter', '2', '--blank', '2', '--dtype', 'uint16'];
    const one = path.join(dir, 'gen-1.h5'), three = path.join(dir, 'gen-3.h5');
    expect(node([stitchJs, 'generate', one, ...args]).code).toBe(0);
    const job = mpirun(3, [stitchJs, 'generate', three, ...args]);
    expect(job.code, job.stderr).toBe(0);
    for (const ds of ['/tiles', '/true_positions', '/systematic_positions', '/blank_tiles']) {
      expect(Buffer.from(read(three, ds).buffer).equals(Buffer.from(read(one, ds).buffer)), ds).toBe(true);
    }
  });

  it('agrees with skimage.registration.phase_cross_correlation within 0.5 px on sampled pairs', () => {
    // Every third edge-neighbour pair of textured tiles in the 5x5 set.
    const step = 150, cols = 5;
    const blank = Array.from(read(withBlank, '/blank_tiles'));
    const pairs: Array<{ a: number; b: number }> = [];
    for (let t = 0; t < 25; t++) for (const n of [t + 1, t + cols]) {
      if ((n === t + 1 && n % cols === 0) || n >= 25 || blank.includes(t) || blank.includes(n)) continue;
      pairs.push({ a: t, b: n });
    }
    const sample = pairs.filter((_, k) => k % 3 === 0);
    expect(sample.length).toBeGreaterThanOrEqual(8);
    // Each pair's two tiles over their nominal overlap (same size, same nominal origin: the shift is the deviation).
    const h5 = openFile(withBlank, { mode: 'r' });
    const ds = h5.openDataset('/tiles');
    const cases: Array<{ a: string; b: string; ours: [number, number] }> = [];
    sample.forEach((p: { a: number; b: number }, k: number) => {
      const down = Math.floor(p.b / cols) > Math.floor(p.a / cols);
      const [ha, wa, ya, xa, yb, xb] = down ? [50, 200, step, 0, 0, 0] : [200, 50, 0, step, 0, 0];
      const strip = (tile: number, y: number, x: number) => ds.read([tile, y, x], [1, ha, wa], new Uint16Array(ha * wa));
      const a = strip(p.a, ya, xa), b = strip(p.b, yb, xb);
      const ours = native().registerPair(a, [ha, wa], b, [ha, wa], { offset: [0, 0], maxShift: 20 });
      // skimage sees the common part only (B's strip less a margin, A's where our whole-pixel shift
      // puts it): plain phase correlation over half-overlapping strips is biased by their edges.
      // A wrong whole-pixel shift would leave skimage a residual of a pixel or more.
      const [iy, ix] = [Math.round(ours.dy), Math.round(ours.dx)], m = 8;
      expect(Math.max(Math.abs(iy), Math.abs(ix))).toBeLessThanOrEqual(m);
      const crop = (v: Uint16Array, dy: number, dx: number) => {
        const out: number[] = [];
        for (let y = m + dy; y < ha - m + dy; y++) for (let x = m + dx; x < wa - m + dx; x++) out.push(v[y * wa + x]);
        return out;
      };
      cases.push({
        a: writeNpy(path.join(dir, `a${k}.npy`), crop(a, iy, ix), ha - 2 * m, wa - 2 * m),
        b: writeNpy(path.join(dir, `b${k}.npy`), crop(b, 0, 0), ha - 2 * m, wa - 2 * m),
        ours: [ours.dy - iy, ours.dx - ix],
      });
    });
    ds.close();
    h5.close();
    const script = 'import sys, json, numpy as np\nfrom skimage.registration import phase_cross_correlation\n' +
      // Reference A, moving B: skimage reports the shift s with B(p) = A(p + s), our deviation here.
      'out = []\nfor a, b in json.load(sys.stdin):\n' +
      '    shift, _, _ = phase_cross_correlation(np.load(a), np.load(b), upsample_factor=100, normalization=None)\n' +
      '    out.append([float(shift[0]), float(shift[1])])\nprint(json.dumps(out))\n';
    // Debian's python3-skimage is for the system interpreter, not a pyenv or venv one first on PATH.
    const py = spawnSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(cases.map((c) => [c.a, c.b])), encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    const theirs = JSON.parse(py.stdout) as Array<[number, number]>;
    cases.forEach((c, k) => {
      expect(Math.abs(c.ours[0] - theirs[k][0]), `pair ${k}: ours ${c.ours} skimage ${theirs[k]}`).toBeLessThanOrEqual(0.5);
      expect(Math.abs(c.ours[1] - theirs[k][1]), `pair ${k}: ours ${c.ours} skimage ${theirs[k]}`).toBeLessThanOrEqual(0.5);
    });
  });

  it('refuses bad input with one line and exit 2', () => {
    const out = path.join(dir, 'bad.h5');
    fs.writeFileSync(path.join(dir, 'exists.h5'), '');
    let refusals = 0;
    for (const [args, message] of [
      [[jittered], /^h5stitch: error: missing --out POSITIONS\.h5$/],
      [[jittered, '--out', out, '--max-shift', 'abc'], /^h5stitch: error: Expected an integer >= 0 for --max-shift but received "abc"$/],
      [[path.join(dir, 'none.h5'), '--out', out], /^h5stitch: error: .*input .*none\.h5 does not exist$/],
      [[jittered, '--out', path.join(dir, 'exists.h5')], /^h5stitch: error: .*exists; pass --force to replace it$/],
      [[jittered, '--out', out, '--min-ncc', '2'], /^h5stitch: error: Expected a number in \[-1, 1\] for --min-ncc but received "2"$/],
      [[jittered, '--out', out, '--picture', path.join(dir, 'p.png')], /^h5stitch: error: Expected a file name ending in \.svg for --picture but received ".*p\.png"$/],
      [[jittered, '--out', out, '--picture', path.join(dir, 'none', 'p.svg')], /^h5stitch: error: picture directory .*none does not exist$/],
      [[jittered, '--out', out, '--positions', `${path.join(dir, 'none.h5')}:/positions`], /^h5stitch: error: positions file .*none\.h5 does not exist$/],
    ] as const) {
      // Two ranks for the first two (rank 0 alone reports), a singleton for the rest (faster).
      const job = refusals++ < 2 ? mpirun(2, [stitchJs, 'register', ...args]) : node([stitchJs, 'register', ...args]);
      expect(job.code, job.stderr).toBe(2);
      expect(job.stderr.trim().split('\n')[0]).toMatch(message);
      expect(job.stderr.split('\n').filter((l) => l.startsWith('h5stitch'))).toHaveLength(1);
    }
    for (const [args, message] of [
      [['--jitter', '50', '--overlap', '80'], /--jitter 50 must be less than half the overlap/],
      [['--blank', '2'], /--blank needs --jitter PX/],
      [['--jitter', 'x'], /Expected a non-negative number for --jitter but received "x"/],
      [['--jitter', '1', '--drift', '-3'], /Expected a non-negative number for --drift but received "-3"/],
      [['--jitter', '1', '--drift', '300', '--tiles', '3x3', '--overlap', '80'], /the stage error \(--drift 300, --stage-scale 0, --jitter 1\) moves neighbours up to \d+\.\d px relative to each other; that must be less than the overlap \(80x80\)/],
      [['--drift', '3'], /--drift needs --jitter PX/],
    ] as const) {
      const job = node([stitchJs, 'generate', path.join(dir, 'g.h5'), '--tile', '256', ...args]);
      expect(job.code).toBe(2);
      expect(job.stderr.trim()).toMatch(message);
    }
  });
});

/** A float64 .npy of a 2-D array (numpy format 1.0). */
function writeNpy(file: string, data: ArrayLike<number>, height: number, width: number): string {
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${height}, ${width}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const head = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head);
  head.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(Float64Array.from(data).buffer)]));
  return file;
}
