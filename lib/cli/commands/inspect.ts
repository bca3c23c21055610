/** `inspect OUT.h5[:/dataset]`: what an output holds, in one screen (or one JSON object). */
import { inspectOutput, type DatasetSummary, type OutputSummary } from '../../io/inspect';
import { onePositional, optFlag, splitTarget } from '../args';
import type { Command } from './command';

function size(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let k = 0, v = bytes;
  while (v >= 1024 && k < units.length - 1) { v /= 1024; k++; }
  return k === 0 ? `${v} bytes` : `${v.toFixed(1)} ${units[k]}`;
}

function datasetLine(d: DatasetSummary, width: number): string {
  if (d.sameAs) return `  ${d.path.padEnd(width)}  = ${d.sameAs} (a hard link: the same dataset)`;
  const layout = d.chunk ? `chunks ${d.chunk.join('x')}` : 'contiguous';
  const filters = d.filters.length ? d.filters.map((f) => (f.level !== undefined ? `${f.name} ${f.level}` : f.name)).join(' + ') : 'no compression';
  const stored = d.rawBytes && d.filters.length ? `${size(d.storedBytes)} on disk (${((100 * d.storedBytes) / d.rawBytes).toFixed(0)}% of ${size(d.rawBytes)})` : `${size(d.storedBytes)} on disk`;
  const factors = d.downsamplingFactors ? `, downsampled ${d.downsamplingFactors.join('x')}` : '';
  const dtype = d.meantDtype ? `${d.dtype} (${d.meantDtype} as BigDataViewer stores it)` : d.dtype ?? 'unsupported type';
  return `  ${d.path.padEnd(width)}  ${d.shape.join(' x ')}  ${dtype}  ${layout}  ${filters}  ${stored}${factors}`;
}

export function formatSummary(s: OutputSummary): string {
  const p = s.provenance;
  const lines = [`${s.file}: ${size(s.fileBytes)}, ${p ? `h5stitch output, ${p.complete ? 'complete' : 'NOT complete (complete != 1: the stitch did not finish)'}` : `no h5stitch provenance on ${s.dataset}`}`];
  const width = Math.max(0, ...s.datasets.map((d) => d.path.length));
  lines.push('datasets:', ...s.datasets.map((d) => datasetLine(d, width)));
  if (s.datasets.length === 0) lines.push('  (none)');
  const levels = s.levels.layout === 'flat' ? 'none (flat output)' : `${s.levels.paths.length} (${s.levels.layout === 'bdv' ? 'BigDataViewer' : s.levels.layout}): ${s.levels.paths.join(', ')}`;
  lines.push(`pyramid levels: ${levels}`);
  if (p) {
    const grid = p.grid ? ` in a ${p.grid.join('x')} grid` : '';
    const overlap = p.overlap ? `, overlap ${p.overlap.join('x')}` : '';
    lines.push(`provenance: ${p.tiles ?? '?'} tiles of ${p.tileShape?.join('x') ?? '?'}${grid}${overlap}, blend ${p.blend ?? '?'}`);
    lines.push(`  written by h5stitch ${p.version || '?'}: strategy ${p.strategy || '?'}${p.io ? ` (${p.io} I/O)` : ''}, ${p.ranks ?? '?'} ranks`);
    const fp = p.inputFingerprint;
    const fpText = fp ? ` (${fp.kind}: tiles ${fp.tilesShape.join('x')} ${fp.tilesDtype}${fp.tilesPath ? ` at ${fp.tilesPath}` : ''}; ${fp.files} file${fp.files === 1 ? '' : 's'} fingerprinted)` : ' (no input fingerprint: written before h5stitch 0.2)';
    lines.push(`  input: ${p.input ?? '?'}${fpText}`);
    if (p.pyramid) lines.push(`  pyramid: ${p.pyramid.levels} levels, format ${p.pyramid.format ?? '?'}, ${p.pyramid.dtype ?? '?'}, ${p.pyramid.reduction ?? '?'}`);
  }
  return `${lines.join('\n')}\n`;
}

export const inspectCommand: Command = {
  spec: {
    name: 'inspect',
    summary: 'show what an output holds: datasets and pyramid levels (shape, dtype, chunks, compression), provenance, complete flag',
    usage: ['inspect OUT.h5[:/dataset]'],
    options: {},
  },
  run(mpi, args) {
    const target = splitTarget(onePositional(args, 'OUT.h5[:/dataset] to inspect'), '/stitched');
    const summary = mpi.runOnRoot(() => inspectOutput(target.file, target.dataset));
    if (mpi.rank === 0) process.stdout.write(optFlag(args, 'json') ? `${JSON.stringify({ command: 'inspect', ...summary })}\n` : formatSummary(summary));
    return 0;
  },
};
