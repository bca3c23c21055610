/** What `register` and `stitch --register` share: the registration options and the report's lines. */
import { expected } from '../../errors';
import type { RegisterReport } from '../../register/run';
import { optInt, optString, type OptionSpec, type ParsedArgs } from '../args';

export const REGISTER_OPTIONS: Record<string, OptionSpec> = {
  'max-shift': { value: 'PX', help: 'largest deviation from the nominal position between two neighbours, per axis (default a tenth of the smaller tile side, at least 8)' },
  'min-ncc': { value: 'R', help: 'NCC a pair needs (default: 99th percentile of null pairs, at least 0.1)' },
  peaks: { value: 'K', help: 'correlation peaks examined per pair (default 5)' },
};

function minNcc(args: ParsedArgs): number | undefined {
  const raw = optString(args, 'min-ncc');
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw.trim() === '' || !(v >= -1 && v <= 1)) throw expected('a number in [-1, 1]', '--min-ncc', raw);
  return v;
}

export function registerOptionsFrom(args: ParsedArgs): { maxShift?: number; peaks?: number; minNcc?: number } {
  return { maxShift: optInt(args, 'max-shift', 0), peaks: optInt(args, 'peaks', 1), minNcc: minNcc(args) };
}

function summaryLine(r: RegisterReport): string {
  const p = r.pairs, s = r.status;
  return `h5stitch: registered ${r.tiles} tiles of ${r.input}${r.output ? ` into ${r.output}` : ''}: ${s.registered} registered, ${s['registered-group']} in separate groups, ` +
    `${s.modelled} modelled; ${p.kept}/${p.total} pairs kept (${p.lowNcc} below NCC ${r.nccThreshold.value.toFixed(3)}, ${p.noCandidate} without a candidate, ` +
    `${p.outlier} outliers); ${r.ranks} ranks, ${r.seconds.total.toFixed(2)} s (${r.pairsPerSecondPerRank.toFixed(1)} pairs/s per rank)`;
}

/** The summary line, a line per tile not in the main group (20 at most), and a warning when kept pairs disagree. */
export function reportLines(report: RegisterReport): string[] {
  const lines = [summaryLine(report)];
  const unregistered = report.tileTable.filter((t) => t.status !== 'registered');
  for (const t of unregistered.slice(0, 20)) lines.push(`  tile ${t.index}: ${t.status}: ${t.reason}${t.uncertainty === undefined ? '' : `; placed by the stage model, uncertain by ±${t.uncertainty.toFixed(2)} px`}`);
  if (unregistered.length > 20) lines.push(`  ... and ${unregistered.length - 20} more (see --report)`);
  const disagree = report.pairTable.filter((p) => p.status === 'kept' && p.residual > 1);
  if (disagree.length) {
    const worst = disagree.reduce((w, p) => (p.residual > w.residual ? p : w));
    lines.push(`h5stitch: warning: ${disagree.length} kept pair(s) disagree with the solved positions by more than 1 px ` +
      `(worst ${worst.a}-${worst.b}: ${worst.residual.toFixed(2)} px): the tiles near them are uncertain (weak or periodic texture?)`);
  }
  return lines;
}
