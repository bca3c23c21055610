/** The node CPU count behind --pipeline auto: cpuset lists as the kernel writes them. */
import { describe, expect, it } from 'vitest';
import * as os from 'node:os';
import { countCpuList, nodeCpus } from '../lib/runtime/cpus';

describe('countCpuList', () => {
  it('counts ranges and single CPUs', () => {
    expect(countCpuList('0-1\n')).toBe(2);
    expect(countCpuList('0-3,8,10-11')).toBe(7);
    expect(countCpuList('5')).toBe(1);
  });
  it('gives null for what it cannot read', () => {
    expect(countCpuList('')).toBeNull();
    expect(countCpuList('3-1')).toBeNull();
    expect(countCpuList('a-b')).toBeNull();
  });
});

describe('nodeCpus', () => {
  it('is at least 1 and at most the online CPUs', () => {
    const n = nodeCpus();
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(os.cpus().length);
  });
});
