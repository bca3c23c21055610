#!/usr/bin/python3
"""The classic h5py + mpi4py tile stitch, as users run it: a benchmark baseline.

    mpirun -n 4 python3 bench/classic_stitch.py TILES.h5 --out OUT.h5[:/stitched] [--overlap P | --overlap OY,OX]

This is deliberately NOT fixed. It reproduces the recipe h5stitch replaces, step by step:
  1. open the output with driver='mpio' on COMM_WORLD, atomic mode on (f.atomic = True);
  2. create the dataset with the tiles' dtype; rank 0 alone writes zeros (dset[...] = 0); barrier;
  3. four parity rounds over the grid positions (row%2, col%2) = (0,0), (0,1), (1,0), (1,1):
     rank 0 splits the round's tiles with np.array_split and scatters them (comm.scatter);
     every rank reads each of its tiles and read-add-writes it into the output,
     out[y:y+h, x:x+w] += tile (h5py: read the rectangle, add, write it back; independent I/O);
     barrier after each round;
  4. flush, close.
Tiles are added without blending weights: overlaps hold the plain sum of the tiles covering
them (and integer dtypes wrap around on overflow, as numpy's += does). That is what the recipe
does. For float32 tiles h5stitch's `--blend none` computes the same sum bit for bit where caches
agree (test/classic-stitch.test.ts), so the two can be compared.

Where this loses tiles: the read-add-write reads bytes another rank (or another node's cache)
may be about to change or has already changed; on file systems whose client caches disagree it
reads stale data and writes it back over other ranks' tiles. MPI-IO data sieving without working
byte-range locks does the same inside one write. Every call returns success. Measured losses
on nodes whose caches disagree: docs/reliability.md, "Caches that disagree".

Input: the h5stitch tile file format: /tiles [N, H, W], /tile_array [R, C] int (-1 = empty
position), the overlap from the `overlap` attribute on /tiles (or the file root) as [oy, ox] or
one number, unless --overlap is given.

Prints one JSON line (rank 0) with the timings: wall_s from just after MPI start-up (all ranks
past a barrier) to the closed output file, and the phases (each the maximum over ranks).
Bad input: one line on stderr, exit code 2. Any other error: one line naming the rank, MPI_Abort.

Debian's h5py: `import h5py` loads the MPI build only when it sees it runs under an MPI launcher
(OMPI_COMM_WORLD_SIZE, MPI_LOCALNRANKS) or H5PY_ALWAYS_USE_MPI is set, so this script sets
H5PY_ALWAYS_USE_MPI before importing h5py (a one-process run without mpirun gets the MPI build
too). Debian's packages are for /usr/bin/python3; another python3 first on PATH (pyenv, a
virtualenv) without h5py gets this script re-executed with /usr/bin/python3.
"""
import argparse
import json
import os
import sys

os.environ.setdefault('H5PY_ALWAYS_USE_MPI', '1')

try:
    import numpy as np
    import h5py
    from mpi4py import MPI
except ImportError as missing:
    system_python = '/usr/bin/python3'
    if os.path.realpath(sys.executable) != os.path.realpath(system_python) and os.path.exists(system_python):
        # Nothing has initialised MPI yet, so replacing the interpreter is safe under mpirun.
        os.execv(system_python, [system_python] + sys.argv)
    sys.stderr.write(f'classic_stitch: error: {missing} (install with: apt-get install -y python3-h5py-mpi python3-mpi4py)\n')
    sys.exit(2)

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
PARITY_ROUNDS = [(0, 0), (0, 1), (1, 0), (1, 1)]


class UsageError(Exception):
    """Bad input or arguments: one line, exit code 2."""


def parse_args(argv):
    parser = argparse.ArgumentParser(prog='classic_stitch.py', description='The classic h5py + mpi4py read-add-write stitch (baseline).')
    parser.add_argument('input', help='tile file: /tiles [N,H,W], /tile_array [R,C]')
    parser.add_argument('--out', required=True, help='output FILE[:/dataset] (default dataset /stitched); an existing file is replaced')
    parser.add_argument('--overlap', help='P or OY,OX in pixels (default: the overlap attribute)')
    parser.add_argument('--tiles-path', default='/tiles')
    parser.add_argument('--layout-path', default='/tile_array')
    args = parser.parse_args(argv)
    path, _, dataset = args.out.partition(':')
    args.out_path, args.dataset = path, dataset or '/stitched'
    return args


def overlap_pair(value, where):
    values = np.atleast_1d(np.asarray(value)).ravel()
    if values.size == 1:
        values = np.repeat(values, 2)
    if values.size != 2 or not np.all(np.equal(np.mod(values, 1), 0)):
        raise UsageError(f'overlap {where} must be one integer or two (oy, ox), got {value!r}')
    return int(values[0]), int(values[1])


def read_plan(args):
    """Tile grid, overlap and canvas; every rank computes the same (no communication needed)."""
    if not os.path.isfile(args.input):
        raise UsageError(f'input {args.input} not found')
    out_dir = os.path.dirname(args.out_path) or '.'
    if not os.path.isdir(out_dir):
        raise UsageError(f'output directory {out_dir} does not exist')
    try:
        source = h5py.File(args.input, 'r')
    except OSError as e:
        raise UsageError(f'cannot open input {args.input}: {e}')
    with source:
        if not isinstance(source.get(args.tiles_path), h5py.Dataset) or source[args.tiles_path].ndim != 3:
            raise UsageError(f'{args.input}: {args.tiles_path} must be a 3-D dataset [N, H, W]')
        if not isinstance(source.get(args.layout_path), h5py.Dataset) or source[args.layout_path].ndim != 2:
            raise UsageError(f'{args.input}: {args.layout_path} must be a 2-D int dataset [R, C]')
        tiles = source[args.tiles_path]
        count, height, width = tiles.shape
        dtype = tiles.dtype
        layout = source[args.layout_path][()]
        if not np.issubdtype(layout.dtype, np.integer):
            raise UsageError(f'{args.input}: {args.layout_path} must be integers, not {layout.dtype}')
        if args.overlap is not None:
            try:
                oy, ox = overlap_pair([int(v) for v in args.overlap.split(',')], '--overlap')
            except ValueError:
                raise UsageError(f'--overlap must be P or OY,OX (integers), got {args.overlap!r}')
        elif 'overlap' in tiles.attrs:
            oy, ox = overlap_pair(tiles.attrs['overlap'], f'attribute on {args.tiles_path}')
        elif 'overlap' in source.attrs:
            oy, ox = overlap_pair(source.attrs['overlap'], 'attribute on /')
        else:
            raise UsageError(f'{args.input}: no overlap attribute on {args.tiles_path} or /; give --overlap')
    if not (0 <= oy < height and 0 <= ox < width):
        raise UsageError(f'overlap ({oy}, {ox}) must be smaller than the tile ({height}, {width})')
    grid = []  # (row, col, tile index)
    seen = set()
    for (r, c), index in np.ndenumerate(layout):
        index = int(index)
        if index == -1:
            continue
        if not 0 <= index < count or index in seen:
            raise UsageError(f'{args.layout_path}[{r}][{c}] = {index} is not a valid unused tile index (0..{count - 1} or -1)')
        seen.add(index)
        grid.append((r, c, index))
    if not grid:
        raise UsageError(f'{args.layout_path} has no tiles (all -1)')
    rows, cols = layout.shape
    canvas = ((rows - 1) * (height - oy) + height, (cols - 1) * (width - ox) + width)
    return dict(grid=grid, tile=(height, width), overlap=(oy, ox), canvas=canvas, dtype=dtype, count=count)


def agree_on_input(args):
    """Every rank checks the input; all stop with exit 2 when any rank found a problem (rank 0 says why)."""
    try:
        plan, message = read_plan(args), None
    except UsageError as e:
        plan, message = None, str(e)
    messages = comm.allgather(message)
    failed = [m for m in messages if m is not None]
    if failed:
        if rank == 0:
            sys.stderr.write(f'classic_stitch: error: {failed[0]}\n')
        sys.exit(2)
    return plan


def stitch(args, plan):
    times = dict(open_s=0.0, zero_fill_s=0.0, rounds_s=[], read_tiles_s=0.0, add_write_s=0.0, flush_s=0.0, close_s=0.0)
    height, width = plan['tile']
    oy, ox = plan['overlap']
    comm.Barrier()
    started = MPI.Wtime()

    t = MPI.Wtime()
    out_file = h5py.File(args.out_path, 'w', driver='mpio', comm=comm)
    out_file.atomic = True
    out = out_file.create_dataset(args.dataset, shape=plan['canvas'], dtype=plan['dtype'])
    source = h5py.File(args.input, 'r')
    tiles = source[args.tiles_path]
    times['open_s'] = MPI.Wtime() - t

    t = MPI.Wtime()
    if rank == 0:
        out[...] = 0
    comm.Barrier()
    times['zero_fill_s'] = MPI.Wtime() - t

    for parity in PARITY_ROUNDS:
        t = MPI.Wtime()
        work = None
        if rank == 0:
            in_round = [g for g in plan['grid'] if (g[0] % 2, g[1] % 2) == parity]
            work = [list(part) for part in np.array_split(np.array(in_round, dtype=np.int64).reshape(-1, 3), size)]
        mine = comm.scatter(work, root=0)
        for r, c, index in mine:
            y, x = int(r) * (height - oy), int(c) * (width - ox)
            t_read = MPI.Wtime()
            tile = tiles[int(index)]
            t_add = MPI.Wtime()
            out[y:y + height, x:x + width] += tile
            times['read_tiles_s'] += t_add - t_read
            times['add_write_s'] += MPI.Wtime() - t_add
        comm.Barrier()
        times['rounds_s'].append(MPI.Wtime() - t)

    t = MPI.Wtime()
    out_file.flush()
    times['flush_s'] = MPI.Wtime() - t
    t = MPI.Wtime()
    source.close()
    out_file.close()
    times['close_s'] = MPI.Wtime() - t
    wall = MPI.Wtime() - started
    return wall, times


def main():
    args = parse_args(sys.argv[1:])
    if not h5py.get_config().mpi:
        if rank == 0:
            sys.stderr.write('classic_stitch: error: this h5py has no MPI support (Debian: apt-get install -y python3-h5py-mpi)\n')
        sys.exit(2)
    plan = agree_on_input(args)
    try:
        wall, times = stitch(args, plan)
    except Exception as e:  # noqa: BLE001 - one line, then end every rank (others would wait forever)
        sys.stderr.write(f'classic_stitch: [rank {rank}] error: {type(e).__name__}: {e}\n')
        sys.stderr.flush()
        comm.Abort(1)
    walls = comm.gather(wall, root=0)
    all_times = comm.gather(times, root=0)
    if rank == 0:
        phases = {k: max(t[k] for t in all_times) for k in times if k != 'rounds_s'}
        phases['rounds_s'] = [max(t['rounds_s'][i] for t in all_times) for i in range(len(PARITY_ROUNDS))]
        report = dict(
            tool='classic_stitch', ranks=size, input=args.input, output=args.out_path, dataset=args.dataset,
            tiles=len(plan['grid']), tile=list(plan['tile']), overlap=list(plan['overlap']), canvas=list(plan['canvas']),
            dtype=str(plan['dtype']), atomic=True, blend='none (plain sum)',
            mpi=MPI.Get_library_version().split(',')[0].strip(' \x00\n'), hdf5=h5py.version.hdf5_version, h5py=h5py.version.version,
            wall_s=round(max(walls), 6), phases={k: (round(v, 6) if not isinstance(v, list) else [round(x, 6) for x in v]) for k, v in phases.items()},
        )
        print(json.dumps(report), flush=True)


if __name__ == '__main__':
    main()
