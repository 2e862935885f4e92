"""One argon2id password verify, alone: valetkey's (argon2-cffi, as installed in this venv)
against the argon2 peer's (`@node-rs/argon2` in Node), same hash, same parameters
(valetkey's default: `passwords.STRICT`), CPU time per verify, in the same run.

    .venv/bin/python bench/provider/argon2_verify.py [--verifies 30] [--repeats 3]

`make install` builds argon2-cffi-bindings from source for this machine's CPU
(`-march=native`: AVX2 where the CPU has it); the wheel on PyPI is built for any x86-64 and
verifies about 2.4x slower. The report says which build ran (the wheel's platform tag:
`manylinux...` is PyPI's, `linux_...` was built here).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import resource
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import NODE_DIR, install

from valetkey.provider.passwords import STRICT

PASSWORD = "correct horse battery staple"  # bench-only
NODE_JS = """
const { verify } = require('@node-rs/argon2');
const [hash, password, n, repeats] = process.argv.slice(1);
(async () => {
  for (let i = 0; i < 3; i++) await verify(hash, password);
  const out = [];
  for (let r = 0; r < Number(repeats); r++) {
    const start = process.cpuUsage();
    for (let i = 0; i < Number(n); i++) {
      if (!(await verify(hash, password))) throw new Error('verify failed');
    }
    const used = process.cpuUsage(start);
    out.push((used.user + used.system) / 1000 / Number(n));
  }
  console.log(JSON.stringify(out));
})();
"""


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def python_ms(stored: str, verifies: int, repeats: int) -> list[float]:
    for _ in range(3):
        STRICT.verify(stored, PASSWORD)
    runs = []
    for _ in range(repeats):
        start = _cpu()
        for _ in range(verifies):
            STRICT.verify(stored, PASSWORD)
        runs.append(1000 * (_cpu() - start) / verifies)
    return runs


def node_ms(node: str, stored: str, verifies: int, repeats: int) -> list[float]:
    done = subprocess.run(
        [node, "-e", NODE_JS, stored, PASSWORD, str(verifies), str(repeats)],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return [float(ms) for ms in json.loads(done.stdout)]


def binding_build() -> str:
    wheel = importlib.metadata.distribution("argon2-cffi-bindings").read_text("WHEEL") or ""
    tags = [line.split(": ", 1)[1] for line in wheel.splitlines() if line.startswith("Tag: ")]
    version = importlib.metadata.version("argon2-cffi-bindings")
    origin = "PyPI's wheel" if any("manylinux" in tag for tag in tags) else "built here"
    return f"argon2-cffi-bindings {version} ({origin}: {', '.join(tags)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verifies", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    peers = install()
    stored = STRICT.hash(PASSWORD)
    ours = python_ms(stored, args.verifies, args.repeats)
    theirs = node_ms(peers.node, stored, args.verifies, args.repeats)
    mine, peer = statistics.median(ours), statistics.median(theirs)
    print(f"hash: {stored.split('$')[3]} (valetkey's default, passwords.STRICT)")
    print(f"valetkey, {binding_build()}: {mine:.1f} ms CPU per verify")
    print(f"@node-rs/argon2 {peers.versions['@node-rs/argon2']}: {peer:.1f} ms CPU per verify")
    print(f"valetkey / peer: {mine / peer:.2f}x CPU per verify")


if __name__ == "__main__":
    main()
