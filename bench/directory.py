"""Benchmark of the RPPS directory import and lookup (run by hand).

Writes (once) a synthetic extract of --rows rows with bench/make_directory.py, imports it in a child
process (wall time and peak resident memory of that process), then times lookups by RPPS.
Targets on this 2-core machine: 2,000,000 rows imported in <= 90 s with peak memory <= 300 MB;
a lookup in <= 1 ms.

    .venv/bin/python bench/directory.py [--rows 2000000]
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from comments_service.domain.rpps import Directory  # noqa: E402

IMPORT = """
import sys
from comments_service.domain.rpps import import_directory
report = import_directory(sys.argv[1], sys.argv[2])
print(report.rows, report.physician_rows, report.physicians, f"{report.seconds:.2f}")
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--lookups", type=int, default=20_000)
    args = parser.parse_args()
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    extract = out / f"PS_LibreAcces_Personne_activite_{args.rows}.txt"
    if not extract.exists():
        print(f"writing {extract} ...", flush=True)
        subprocess.run([sys.executable, str(ROOT / "bench" / "make_directory.py"), "--rows", str(args.rows),
                        "--out", str(extract)], check=True)
    size_mb = extract.stat().st_size / 1e6

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "directory.sqlite3"
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", IMPORT, str(extract), str(target)], capture_output=True,
                              text=True, cwd=ROOT)
        wall = time.perf_counter() - start
        if proc.returncode:
            raise SystemExit(proc.stderr)
        rows, kept, physicians, _ = proc.stdout.split()
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

        directory = Directory(target)
        conn = directory._connection()
        numbers = [r[0] for r in conn.execute("SELECT rpps FROM physicians ORDER BY random() LIMIT ?", (args.lookups,))]
        numbers += [f"1{random.randint(0, 10**9):09d}0" for _ in range(len(numbers) // 10)]  # misses too
        random.shuffle(numbers)
        timings = []
        for number in numbers:
            t = time.perf_counter()
            directory.lookup(number)
            timings.append((time.perf_counter() - t) * 1000)
        timings.sort()
        db_mb = target.stat().st_size / 1e6

    print(f"extract: {int(rows):,} rows ({size_mb:,.0f} MB), {int(kept):,} physician rows, {int(physicians):,} physicians")
    print(f"import:  {wall:6.1f} s   (target <= 90 s)   ratio to target: {wall / 90:.2f}")
    print(f"peak memory of the import process: {peak_mb:6.0f} MB   (target <= 300 MB)")
    print(f"directory file: {db_mb:.0f} MB")
    print(f"lookup by RPPS over {len(timings):,} lookups: mean {statistics.mean(timings):.3f} ms, "
          f"p99 {timings[int(len(timings) * 0.99)]:.3f} ms   (target <= 1 ms)")


if __name__ == "__main__":
    main()
