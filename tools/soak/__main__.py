"""``python -m tools.soak``: run the soak, print its figures and checks, exit 1 if one failed."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tools.soak.run import SoakConfig, render, run_soak


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run, print; 0 when every judged check held."""
    defaults = SoakConfig()
    parser = argparse.ArgumentParser(
        prog="python -m tools.soak",
        description="One headless app and ten CLI loops against the simulator with faults.",
    )
    parser.add_argument("--seconds", type=float, default=defaults.seconds)
    parser.add_argument("--clis", type=int, default=defaults.clis, help="CLI loops at once")
    parser.add_argument(
        "--faults", type=float, default=defaults.fault_rate, help="share of requests spoiled"
    )
    parser.add_argument("--pipelines", type=int, default=defaults.pipelines)
    parser.add_argument("--speed", type=float, default=defaults.speed, help="simulated clock")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--sample-every", type=float, default=defaults.sample_every)
    parser.add_argument("--out", type=Path, help="where the logs go (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    config = SoakConfig(
        seconds=args.seconds,
        clis=args.clis,
        fault_rate=args.faults,
        pipelines=args.pipelines,
        speed=args.speed,
        seed=args.seed,
        sample_every=args.sample_every,
        out=args.out,
    )
    result = run_soak(config)
    print(render(result))
    if args.json:
        args.json.write_text(json.dumps(result.to_json(), indent=2), encoding="utf-8")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
