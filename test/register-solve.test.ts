/** The pure parts of register: pair geometry, balancing over ranks, and the robust global solve. */
import { describe, expect, it } from 'vitest';
import { gridPositions } from '../lib/core/geometry';
import { planFromPlacement } from '../lib/core/plan';
import { balance, candidatePairs, nullPairs } from '../lib/register/pairs';
import { solvePositions, type Link } from '../lib/register/solve';
import { prng } from './helpers/prng';

function grid(rows: number, cols: number, size = 100, overlap = 20) {
  const layout = Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => r * cols + c));
  const { tiles, canvas } = gridPositions({ layout, tileHeight: size, tileWidth: size, overlapY: overlap, overlapX: overlap });
  return planFromPlacement(tiles, canvas, [overlap, overlap], 'linear');
}

/** Exact links between the edge neighbours of a rows x cols grid whose tiles sit at `truth`. */
function exactLinks(rows: number, cols: number, step: number, truth: Array<[number, number]>): Link[] {
  const links: Link[] = [];
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
    const a = r * cols + c;
    for (const [b, ny, nx] of [[a + 1, 0, step], [a + cols, step, 0]] as const) {
      if ((b === a + 1 && c === cols - 1) || b >= rows * cols) continue;
      links.push({ a, b, dy: truth[b][0] - truth[a][0] - ny, dx: truth[b][1] - truth[a][1] - nx, ncc: 0.9, status: 'kept', residual: 0 });
    }
  }
  return links;
}

describe('register pairs', () => {
  it('pairs edge neighbours only, with strips grown by the max shift and their offset', () => {
    const plan = grid(2, 2);
    const pairs = candidatePairs(plan, 10);
    expect(pairs.map((p) => `${p.a}-${p.b}`)).toEqual(['0-1', '0-2', '1-3', '2-3']);
    // 0-1: overlap x in [80, 100); grown by 10: A keeps x 70..100 (30 wide), B x 0..30; all rows.
    expect(pairs[0]).toMatchObject({ stripA: { y: 0, x: 70, height: 100, width: 30 }, stripB: { y: 0, x: 0, height: 100, width: 30 }, offset: [0, 10] });
    expect(pairs[0].minOverlap).toBe(256);
  });

  it('balances by cost, deterministically, every job once', () => {
    const plan = grid(5, 7);
    const jobs = [...candidatePairs(plan, 12), ...nullPairs(plan, candidatePairs(plan, 12), 40)];
    for (const ranks of [1, 2, 3, 8]) {
      const owned = balance(jobs, ranks);
      expect(owned.flat().sort((a, b) => a - b)).toEqual(jobs.map((_, i) => i));
      const loads = owned.map((list) => list.reduce((s, i) => s + jobs[i].cost, 0));
      expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(Math.max(...jobs.map((j) => j.cost)));
      expect(balance(jobs, ranks)).toEqual(owned);
    }
    const nulls = nullPairs(plan, candidatePairs(plan, 12), 40);
    const neighbours = new Set(candidatePairs(plan, 12).map((p) => `${p.a},${p.b}`));
    expect(nulls).toHaveLength(40);
    for (const n of nulls) expect(n.a === n.b || neighbours.has(`${Math.min(n.a, n.b)},${Math.max(n.a, n.b)}`)).toBe(false);
  });
});

describe('register solve', () => {
  const rows = 4, cols = 5, step = 80;
  const random = prng(7);
  const nominal = Array.from({ length: rows * cols }, (_, i) => [Math.floor(i / cols) * step, (i % cols) * step] as [number, number]);
  const truth = nominal.map(([y, x]) => [y + 20 * (random() - 0.5), x + 20 * (random() - 0.5)] as [number, number]);
  const relativeError = (positions: Array<{ y: number; x: number }>, indices: number[]) => {
    const [i0] = indices;
    return Math.max(...indices.map((i) => Math.hypot(positions[i].y - positions[i0].y - (truth[i][0] - truth[i0][0]),
      positions[i].x - positions[i0].x - (truth[i][1] - truth[i0][1]))));
  };

  it('recovers exact positions from exact links', () => {
    const solution = solvePositions(nominal, exactLinks(rows, cols, step, truth));
    expect(solution.tiles.every((t) => t.status === 'registered')).toBe(true);
    expect(relativeError(solution.tiles, nominal.map((_, i) => i))).toBeLessThan(1e-6);
    expect(solution.outliersRemoved).toBe(0);
  });

  it('removes a wrong link as an outlier and still recovers every tile', () => {
    const links = exactLinks(rows, cols, step, truth);
    links[7].dx += 9;
    links[7].ncc = 0.95;
    const solution = solvePositions(nominal, links);
    expect(links[7].status).toBe('outlier');
    expect(links[7].residual).toBeGreaterThan(8.9);
    expect(solution.outliersRemoved).toBe(1);
    expect(relativeError(solution.tiles, nominal.map((_, i) => i))).toBeLessThan(1e-6);
  });

  it('places an unlinked tile by the model and a detached pair as a group, saying why', () => {
    // A stage 1% long in both axes, no random error: the model must put tile 0 exactly.
    const stage = nominal.map(([y, x]) => [y * 1.01 + 3, x * 1.01 - 2] as [number, number]);
    const links = exactLinks(rows, cols, step, stage);
    for (const l of links) if (l.a === 0 || l.b === 0) l.status = 'low-ncc';
    // Tiles 18 and 19 linked only to each other.
    for (const l of links) if ([l.a, l.b].some((t) => t === 18 || t === 19) && !(l.a === 18 && l.b === 19)) l.status = 'low-ncc';
    const solution = solvePositions(nominal, links);
    expect(solution.tiles[0]).toMatchObject({ status: 'modelled', reason: 'no kept link (0-1 low-ncc, 0-5 low-ncc)' });
    expect(solution.tiles[18].status).toBe('registered-group');
    expect(solution.tiles[19].status).toBe('registered-group');
    expect(solution.model.scaleY).toBeCloseTo(1.01, 9);
    expect(solution.model.scaleX).toBeCloseTo(1.01, 9);
    const registered = nominal.map((_, i) => i).filter((i) => solution.tiles[i].status === 'registered');
    const shiftY = solution.tiles[1].y - stage[1][0], shiftX = solution.tiles[1].x - stage[1][1];
    for (const i of [0, 18, 19, ...registered]) {
      expect(solution.tiles[i].y - stage[i][0]).toBeCloseTo(shiftY, 6);
      expect(solution.tiles[i].x - stage[i][1]).toBeCloseTo(shiftX, 6);
    }
  });
});

describe('solvePositions without a registered tile', () => {
  it('leaves every tile at its nominal position, modelled, with no uncertainty claimed', () => {
    const nominal: Array<[number, number]> = [[0, 0], [0, 80], [80, 0], [80, 80]];
    const links = [[0, 1], [0, 2], [1, 3], [2, 3]].map(([a, b]) => ({ a, b, dy: 0, dx: 0, ncc: 0.05, residual: 0, status: 'low-ncc' as const }));
    const solution = solvePositions(nominal, links);
    expect(solution.model.fittedFrom).toBe(0);
    solution.tiles.forEach((t, i) => {
      expect([t.y, t.x]).toEqual(nominal[i]);
      expect(t.status).toBe('modelled');
      expect(t.uncertainty).toBeUndefined();
      expect(t.reason).toMatch(/nothing registered to fit a stage model from: nominal position$/);
    });
  });
});
